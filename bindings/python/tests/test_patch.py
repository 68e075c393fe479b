"""Activation patching from Python: the same sweep as `aann patch`, as a dict."""

import aann
import pytest

from conftest import DATA

CLEAN = DATA / "googlenet-bvlc" / "sample_input.jpg"
CORRUPTED = DATA / "imagenet-val" / "images" / "ILSVRC2012_val_00000347.JPEG"


def test_a_whole_tap_restores_the_clean_answer_and_one_branch_only_part(bvlc):
    report = bvlc.patch(
        CLEAN, CORRUPTED, taps=["inception_4a_output", "inception_3a_1x1", "inception_3a_5x5"]
    )
    a, b = report["answers"]
    assert a == 967  # espresso, the clean image's class
    assert report["clean_difference"] - report["corrupted_difference"] > 1.0
    rows = {r["tap"]: r for r in report["rows"]}
    # Every channel of a block output carries everything downstream needs.
    assert rows["inception_4a_output"]["restored"] == pytest.approx(1.0, abs=1e-4)
    assert rows["inception_4a_output"]["top1"] == 967
    # One branch of four restores part of it (the 1×1 branch most of the 3a branches).
    assert 0.2 < rows["inception_3a_1x1"]["restored"] < 0.99
    assert rows["inception_3a_5x5"]["restored"] < rows["inception_3a_1x1"]["restored"]
    assert rows["inception_3a_1x1"]["channels"] == 64


def test_the_default_taps_are_every_blocks_four_branches(bvlc):
    report = bvlc.patch(CLEAN, CORRUPTED)
    taps = [r["tap"] for r in report["rows"]]
    assert len(taps) == 9 * 4
    assert taps[:4] == ["inception_3a_1x1", "inception_3a_3x3", "inception_3a_5x5", "inception_3a_pool_proj"]


def test_patching_a_channel_the_tap_lacks_raises(bvlc):
    with pytest.raises(aann.AannError, match="channel 9999"):
        bvlc.patch(CLEAN, CORRUPTED, taps=["conv2_3x3"], channels=[9999])
