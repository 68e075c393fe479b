"""Shared fixtures: the data root (../shared/data, or $AANN_DATA), the models, a few images."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def data_root() -> Path:
    root = Path(os.environ.get("AANN_DATA", REPO.parent / "shared" / "data"))
    if (root / "data").is_dir() and not (root / "imagenet-val").is_dir():
        root = root / "data"
    assert (root / "googlenet-bvlc").is_dir(), (
        f"no data root at {root}: set AANN_DATA to the folder holding googlenet-bvlc/, imagenet-val/"
    )
    return root


DATA = data_root()
LUCID_FIXTURE = DATA / "inception5h-fixture" / "inception5h-random.pth"


@pytest.fixture(scope="session")
def bvlc():
    import aann

    return aann.Model("bvlc", data=DATA)


@pytest.fixture(scope="session")
def lucid_fixture():
    import aann

    return aann.Model("lucid", weights=LUCID_FIXTURE, data=DATA)


@pytest.fixture(scope="session")
def val_images():
    """The first 6 ImageNet validation images (227×227 JPEGs), as absolute paths."""
    files = sorted((DATA / "imagenet-val" / "images").glob("*.JPEG"))[:6]
    assert len(files) == 6
    return [str(f) for f in files]
