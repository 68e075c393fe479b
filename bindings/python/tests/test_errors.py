"""(d) Bad inputs raise aann.AannError naming the thing at fault, with the command line's
message; a Python circuit's own exception comes through as it is."""

import numpy as np
import pytest

import aann
from conftest import DATA, REPO

TAP = "inception_3b_output"


def test_aann_error_is_an_exception():
    assert issubclass(aann.AannError, Exception)


def test_unknown_tap(bvlc, val_images):
    with pytest.raises(aann.AannError, match="inception_3z_output") as e:
        bvlc.run(val_images[:1], taps=["inception_3z_output"])
    assert "did you mean" in str(e.value)
    with pytest.raises(aann.AannError, match="`mixed3b` is the lucid model's name"):
        bvlc.run(val_images[:1], interventions=[aann.zero("mixed3b", [1])])


def test_channel_out_of_range(bvlc, val_images):
    with pytest.raises(aann.AannError, match=r"channel 9999 is out of range for inception_3b_output \(480 channels"):
        bvlc.run(val_images[:1], interventions=[aann.zero(TAP, [9, 9999])])
    with pytest.raises(aann.AannError, match="channel -1 is negative"):
        aann.zero(TAP, [-1])


def test_missing_image_file(bvlc, val_images):
    missing = str(DATA / "imagenet-val" / "images" / "no-such-image.JPEG")
    with pytest.raises(aann.AannError, match="no-such-image.JPEG"):
        bvlc.run([val_images[0], missing])


def test_missing_weights_file():
    with pytest.raises(aann.AannError, match="/no/such/params") as e:
        aann.Model("bvlc", weights="/no/such/params", data=DATA)
    assert "loading the bvlc model from /no/such/params" in str(e.value)
    with pytest.raises(aann.AannError, match="vgg"):
        aann.Model("vgg")


def test_wrong_shape_or_dtype_from_a_python_circuit(bvlc, val_images):
    def wrong_shape(taps):
        return np.zeros((1, 2, 28, 28), dtype=np.float32)

    with pytest.raises(aann.AannError) as e:
        bvlc.run(val_images[:2], interventions=[aann.replace(TAP, [9, 66, 70], wrong_shape, reads=["inception_3a_output"])])
    message = str(e.value)
    assert "inception_3b_output" in message and "[2, 3, 28, 28]" in message and "[1, 2, 28, 28]" in message

    def wrong_dtype(taps):
        return np.zeros((2, 3, 28, 28))

    with pytest.raises(aann.AannError, match="float32") as e:
        bvlc.run(val_images[:2], interventions=[aann.replace(TAP, [9, 66, 70], wrong_dtype, reads=["inception_3a_output"])])
    assert "inception_3b_output" in str(e.value) and "[2, 3, 28, 28]" in str(e.value)

    with pytest.raises(aann.AannError, match="must be a numpy array"):
        bvlc.run(val_images[:2], interventions=[aann.replace(TAP, [9], lambda t: [1, 2], reads=["inception_3a_output"])])


def test_a_python_circuits_exception_comes_through(bvlc, val_images):
    def broken(taps):
        raise ValueError("the circuit is broken")

    with pytest.raises(ValueError, match="the circuit is broken"):
        bvlc.run(val_images[:1], interventions=[aann.replace(TAP, [9], broken, reads=["inception_3a_output"])])
    # The model is usable afterwards.
    assert bvlc.run(val_images[:1])["logits"].shape == (1, 1000)


def test_a_replacement_reading_a_later_tap(bvlc, val_images):
    with pytest.raises(aann.AannError, match="inception_4a_output, which is not earlier"):
        bvlc.run(val_images[:1], interventions=[aann.replace(TAP, [9], lambda t: None, reads=["inception_4a_output"])])


def test_bad_pixels(bvlc):
    with pytest.raises(aann.AannError, match=r"\[N, 3, H, W\]"):
        bvlc.run(np.zeros((1, 4, 224, 224), dtype=np.float32))
    with pytest.raises(aann.AannError, match="float32"):
        bvlc.run(np.zeros((1, 3, 224, 224)))


def test_bad_spec_key(tmp_path):
    spec = REPO / "eval" / "experiments" / "curves-bvlc.toml"
    with pytest.raises(aann.AannError, match="no_such_key") as e:
        aann.run_experiment(spec, {"run.no_such_key": 1}, out=tmp_path / "out", data=DATA)
    assert "curves-bvlc.toml" in str(e.value)
    with pytest.raises(aann.AannError, match="nope.toml"):
        aann.run_experiment(tmp_path / "nope.toml")


def test_bad_claim_selection():
    with pytest.raises(aann.AannError, match="no claim is named `nope`"):
        aann.check_claims(REPO / "eval" / "hypotheses" / "bvlc.toml", only=["nope"], data=DATA)


def test_an_image_given_twice(bvlc, val_images):
    # Images are keyed by path (resample-ablation picks donors by key): a repeat is refused.
    with pytest.raises(aann.AannError, match="appears twice"):
        bvlc.run([val_images[0], val_images[0]])
