"""(a) Activations read from Python equal the reference implementations' own blobs, as the
Rust oracle tests (crates/model/tests/oracles.rs) check them: Caffe's for BVLC GoogLeNet,
TensorFlow's for the inception5h fixture, max |diff| ≤ 1e-4 × max |reference|."""

import struct
import zlib

import numpy as np
import pytest

import aann
from conftest import DATA

TOLERANCE = 1e-4


def relative_error(ours, reference):
    ours = np.asarray(ours, dtype=np.float32).ravel()
    reference = np.asarray(reference, dtype=np.float32).ravel()
    assert ours.shape == reference.shape
    return float(np.max(np.abs(ours - reference)) / max(np.max(np.abs(reference)), 1e-38))


def read_mat_single(path):
    """The one float32 array of a MATLAB v5 file (zlib-compressed, as the BVLC blobs are
    written), flattened in MATLAB's column-major order, with its dimensions."""
    raw = open(path, "rb").read()
    pos = 128
    while pos < len(raw):
        kind, size = struct.unpack_from("<II", raw, pos)
        body = raw[pos + 8 : pos + 8 + size]
        pos += 8 + size + (-size % 8 if kind != 15 else 0)
        if kind == 15:
            body = zlib.decompress(body)
            kind, size = struct.unpack_from("<II", body, 0)
            body = body[8 : 8 + size]
        if kind != 14:
            continue
        # miMATRIX: flags, dimensions, name, real part (sub-elements, 8-byte aligned).
        elements, at = [], 0
        while at < len(body):
            t, n = struct.unpack_from("<II", body, at)
            if t >> 16:  # small data element: size in the upper half, data in 4 bytes
                elements.append((t & 0xFFFF, body[at + 4 : at + 4 + (t >> 16)]))
                at += 8
            else:
                elements.append((t, body[at + 8 : at + 8 + n]))
                at += 8 + n + (-n % 8)
        dims = np.frombuffer(elements[1][1], dtype="<i4")
        t, values = elements[3]
        assert t == 7, f"{path}: expected single-precision data, found type {t}"
        return tuple(int(d) for d in dims), np.frombuffer(values, dtype="<f4")
    raise AssertionError(f"{path}: no array")


def test_bvlc_matches_every_caffe_blob(bvlc):
    reference = DATA / "googlenet-bvlc" / "reference"
    dims, data = read_mat_single(reference / "1_data.mat")
    # MATLAB's W×H×C column-major is C×H×W row-major.
    w, h, c = dims[:3]
    pixels = data.reshape(1, c, h, w).copy()
    blobs = {}
    for path in sorted(reference.glob("*.mat")):
        name = path.stem.split("_", 1)[1]
        if name != "data":
            blobs[name] = path
    assert len(blobs) == 84
    out = bvlc.run(pixels, taps=list(blobs))
    worst = 0.0
    for name, path in blobs.items():
        _, ref = read_mat_single(path)
        err = relative_error(out[name], ref)
        assert err <= TOLERANCE, f"{name}: max |diff| = {err:.3e} × max |reference|"
        worst = max(worst, err)
    print(f"BVLC worst blob: {worst:.2e}")
    _, logits = read_mat_single(reference / "120_loss3_classifier.mat")
    assert relative_error(out["logits"], logits) <= TOLERANCE
    assert out["logits"].shape == (1, 1000)
    assert int(np.argmax(out["logits"][0])) == 967  # espresso
    np.testing.assert_allclose(out["probabilities"].sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("case", ["rgb224", "rgb227x251"])
def test_lucid_matches_tensorflow_on_the_fixture(lucid_fixture, case):
    folder = DATA / "inception5h-fixture" / "reference" / case
    pixels = np.load(folder / "input.npy").astype(np.float32)
    if pixels.ndim == 3:
        pixels = pixels[None]
    refs = {p.stem: np.load(p) for p in sorted(folder.glob("*.npy")) if p.stem != "input"}
    flat = {"softmax2_pre_activation", "softmax2"}
    # The odd-sized case is the trunk only: no classifier.
    logits = bool(flat & set(refs))
    out = lucid_fixture.run(pixels, taps=list(refs), logits=logits)
    for name, ref in refs.items():
        assert out[name].shape == ref.shape, name
        err = relative_error(out[name], ref)
        assert err <= TOLERANCE, f"{case}/{name}: max |diff| = {err:.3e} × max |reference|"
    if logits:
        assert np.max(np.abs(out["logits"] - refs["softmax2_pre_activation"])) <= 1e-3
        assert out["logits"].shape == (1, 1008)
    else:
        assert "logits" not in out


def test_files_are_preprocessed_as_the_command_line_does(bvlc):
    sample = str(DATA / "googlenet-bvlc" / "sample_input.jpg")
    pixels = bvlc.preprocess([sample])
    assert pixels.shape == (1, 3, 224, 224) and pixels.dtype == np.float32
    from_file = bvlc.run([sample], taps=["inception_3b_output"])
    from_pixels = bvlc.run(pixels, taps=["inception_3b_output"])
    for key in ["inception_3b_output", "logits"]:
        np.testing.assert_array_equal(from_file[key], from_pixels[key])
    # Caffe resizes differently from aann's shorter-side-256 + centre crop, but the sample
    # is still an espresso.
    assert int(np.argmax(from_file["logits"][0])) == 967


def test_taps_are_the_models_vocabulary(bvlc, lucid_fixture):
    taps = bvlc.taps()
    assert taps[0] == "data" and "inception_3b_output" in taps and "loss3_classifier" in taps
    assert "mixed3b" in lucid_fixture.taps() and "mixed3b" not in taps
    assert bvlc.variant == "bvlc" and lucid_fixture.variant == "lucid"
    assert bvlc.channels("inception_3b_output") == 480
    assert lucid_fixture.channels("mixed3b") == 480
