"""(b), (c): Python replacements against the library's own interventions, to float
precision. The shipped Rust circuits are not reachable from Python (only through
`run_experiment`), so a Python circuit is checked against the library's zero-, mean- and
resample-ablation instead: each written in numpy must give the same outputs."""

import numpy as np
import pytest

import aann

TAP = "inception_3b_output"
READ = "inception_3a_output"
CHANNELS = [379, 9, 66, 406, 17]  # deliberately unsorted


def natural(bvlc, images):
    return bvlc.run(images, taps=[TAP, "inception_4a_output"])


def max_diff(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


def test_a_replacement_returning_the_natural_activations_changes_nothing(bvlc, val_images):
    base = natural(bvlc, val_images)
    calls = []

    def identity(taps):
        calls.append({k: v.shape for k, v in taps.items()})
        return base[TAP][:, CHANNELS].copy()

    out = bvlc.run(
        val_images,
        taps=[TAP, "inception_4a_output"],
        interventions=[aann.replace(TAP, CHANNELS, identity, reads=[READ])],
    )
    assert calls == [{READ: (6, 256, 28, 28)}], "one batch, the declared read only"
    assert max_diff(out["logits"], base["logits"]) <= 1e-5
    assert max_diff(out[TAP], base[TAP]) == 0.0
    assert max_diff(out["inception_4a_output"], base["inception_4a_output"]) <= 1e-5


def test_the_callables_channel_order_is_the_order_given(bvlc, val_images):
    base = natural(bvlc, val_images)
    # The natural values of CHANNELS, but returned in reversed order: channel 379 gets 17's.
    swapped = aann.replace(TAP, CHANNELS, lambda t: base[TAP][:, CHANNELS[::-1]].copy(), reads=[READ])
    out = bvlc.run(val_images, taps=[TAP], interventions=[swapped])
    np.testing.assert_array_equal(out[TAP][:, 379], base[TAP][:, 17])
    np.testing.assert_array_equal(out[TAP][:, 17], base[TAP][:, 379])
    np.testing.assert_array_equal(out[TAP][:, 66], base[TAP][:, 66])
    assert max_diff(out["logits"], base["logits"]) > 1e-3


def test_a_replacement_returning_zeros_equals_zero_ablation(bvlc, val_images):
    def zeros(taps):
        x = taps[READ]
        return np.zeros((x.shape[0], len(CHANNELS), 28, 28), dtype=np.float32)

    replaced = bvlc.run(
        val_images,
        taps=[TAP],
        interventions=[aann.replace(TAP, CHANNELS, zeros, reads=[READ])],
    )
    ablated = bvlc.run(val_images, taps=[TAP], interventions=[aann.zero(TAP, CHANNELS)])
    base = natural(bvlc, val_images)
    assert max_diff(replaced["logits"], ablated["logits"]) <= 1e-5
    assert max_diff(replaced[TAP], ablated[TAP]) == 0.0
    assert np.all(ablated[TAP][:, CHANNELS] == 0)
    others = [c for c in range(480) if c not in CHANNELS]
    np.testing.assert_array_equal(ablated[TAP][:, others], base[TAP][:, others])
    # The ablation does something: the logits move.
    assert max_diff(ablated["logits"], base["logits"]) > 1e-3


def test_a_numpy_mean_circuit_equals_mean_ablation(bvlc, val_images):
    reference = val_images[3:]
    ref = bvlc.run(reference, taps=[TAP], logits=False)[TAP]
    means = ref.astype(np.float64).mean(axis=(0, 2, 3))[CHANNELS].astype(np.float32)

    def mean_circuit(taps):
        n = taps[READ].shape[0]
        return np.broadcast_to(means[None, :, None, None], (n, len(CHANNELS), 28, 28)).copy()

    library = bvlc.run(
        val_images, taps=[TAP], interventions=[aann.mean(TAP, CHANNELS, images=reference)]
    )
    python = bvlc.run(
        val_images, taps=[TAP], interventions=[aann.replace(TAP, CHANNELS, mean_circuit, reads=[READ])]
    )
    assert max_diff(library[TAP], python[TAP]) <= 1e-5 * float(np.abs(means).max())
    assert max_diff(library["logits"], python["logits"]) <= 1e-4


def fnv_donor(keys, key, seed):
    """`DonorPool::donor_for`, written again in Python."""
    mask = (1 << 64) - 1
    h = 0xCBF29CE484222325 ^ ((seed * 0x9E3779B97F4A7C15) & mask)
    for b in key.encode():
        h ^= b
        h = (h * 0x100000001B3) & mask
    i = h % len(keys)
    if len(keys) > 1 and keys[i] == key:
        i = (i + 1) % len(keys)
    return i


@pytest.mark.parametrize("seed", [0, 7])
def test_a_numpy_resample_circuit_equals_resample_ablation(bvlc, val_images, seed):
    donors = sorted(val_images)  # the donor pool is in key order; a file's key is its path
    pool = bvlc.run(donors, taps=[TAP], logits=False)[TAP]
    order = [fnv_donor(donors, key, seed) for key in val_images]
    assert all(donors[d] != k for d, k in zip(order, val_images)), "never the image itself"
    taken = pool[order][:, CHANNELS].copy()

    library = bvlc.run(
        val_images,
        taps=[TAP],
        interventions=[aann.resample(TAP, CHANNELS, donors=val_images, seed=seed)],
    )
    python = bvlc.run(
        val_images, taps=[TAP], interventions=[aann.replace(TAP, CHANNELS, lambda t: taken, reads=[READ])]
    )
    assert max_diff(library[TAP], python[TAP]) == 0.0
    assert max_diff(library["logits"], python["logits"]) <= 1e-5


def test_batches_keep_the_order_of_the_images(bvlc, val_images):
    """Images given in any order come back in that order, whatever the batch size."""
    shuffled = [val_images[i] for i in [4, 0, 5, 2, 1, 3]]
    whole = bvlc.run(val_images, taps=[TAP], batch_size=16)
    small = bvlc.run(shuffled, taps=[TAP], batch_size=4)
    back = np.argsort([4, 0, 5, 2, 1, 3])
    assert max_diff(small[TAP][back], whole[TAP]) <= 1e-5
    assert max_diff(small["logits"][back], whole["logits"]) <= 1e-5


def test_interventions_describe_themselves():
    z = aann.zero(TAP, [9, 66])
    assert (z.tap, z.channels, z.kind) == (TAP, [9, 66], "zero")
    assert repr(z) == 'aann.zero("inception_3b_output", [9, 66])'
    r = aann.replace(TAP, [66, 9], lambda t: None, reads=[READ])
    assert r.kind == "replace" and r.channels == [66, 9]


def test_the_forward_pass_releases_the_gil(bvlc, val_images):
    """While a run is in progress on another thread, Python code here keeps running: the
    longest pause of this thread's loop is far shorter than the run."""
    import threading
    import time

    done = threading.Event()
    span = {}

    def work():
        try:
            span["start"] = time.perf_counter()
            bvlc.run(val_images, taps=[TAP], batch_size=2)
            span["end"] = time.perf_counter()
        finally:
            done.set()

    worker = threading.Thread(target=work)
    worker.start()
    last, longest = time.perf_counter(), 0.0
    while not done.is_set():
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
    worker.join()
    assert "end" in span, "the run failed"
    duration = span["end"] - span["start"]
    assert duration > 0.5, f"the run took {duration:.2f} s: too short to tell"
    assert longest < 0.25 * duration, f"this thread paused {longest:.2f} s of a {duration:.2f} s run"
