"""Splice a circuit written in Python into BVLC GoogLeNet, and measure what it recovers.

The curve detectors of inception_3b (the family in circuits/families/bvlc/curves-3b.toml)
are replaced by a deliberately simple circuit: a 1×1 linear read-out of inception_3a_output
followed by a ReLU, fitted by least squares on calibration images. It is compared with the
natural network (baseline) and with zero-ablating the family, on images the fit never saw:

    fraction recovered = (CE_zero − CE_circuit) / (CE_zero − CE_baseline)

Run from the repository root, after `maturin develop` (bindings/python/README.md):

    AANN_DATA=../shared/data python bindings/python/examples/splice_circuit.py

A circuit that works here can be ported to Rust as an `aann_model::Replacement` and run by
`aann experiment` with intervals, nulls and controls.
"""

# %% Setup: the model, the family, labelled images.
import os
from pathlib import Path

import numpy as np

import aann

DATA = Path(os.environ.get("AANN_DATA", "../shared/data"))
FAMILY = "family:circuits/families/bvlc/curves-3b.toml"
TAP, READ = "inception_3b_output", "inception_3a_output"

model = aann.Model("bvlc", data=DATA)
curves = aann.zero(TAP, FAMILY).channels  # the family's channels, as the library reads them
print(f"{len(curves)} curve detectors at {TAP}: {curves}")

# Measured on 16 full-resolution images of imagenet-sample (one folder per synset; the class
# is the synset's position in synset_words.txt, BVLC's output order); the circuit is fitted
# on 32 validation images (a different set).
synsets = [line.split()[0] for line in (DATA / "imagenet-val" / "synset_words.txt").read_text().splitlines()]
sample = sorted((DATA / "imagenet-sample").glob("*/*.JPEG"))[::31][:16]
evaluate = [str(f) for f in sample]
truth = np.array([synsets.index(f.parent.name) for f in sample])
calibrate = [str(f) for f in sorted((DATA / "imagenet-val" / "images").glob("*.JPEG"))[:32]]

# %% Fit the circuit: natural 3b curve activations ≈ ReLU(W · 3a + b), per position.
fit = model.run(calibrate, taps=[READ, TAP], logits=False)
x = fit[READ].transpose(0, 2, 3, 1).reshape(-1, fit[READ].shape[1])           # [N·H·W, 256]
y = fit[TAP][:, curves].transpose(0, 2, 3, 1).reshape(-1, len(curves))        # [N·H·W, k]
x1 = np.hstack([x, np.ones((len(x), 1), np.float32)])
weights, *_ = np.linalg.lstsq(x1, y, rcond=None)                               # [257, k]
W, b = weights[:-1].astype(np.float32), weights[-1].astype(np.float32)


def linear_curves(taps):
    """3b's curve detectors from 3a: a 1×1 convolution and a ReLU."""
    a = taps[READ]                                                 # [N, 256, 28, 28]
    out = np.einsum("nchw,ck->nkhw", a, W) + b[None, :, None, None]
    return np.maximum(out, 0).astype(np.float32)                   # [N, k, 28, 28]


# %% Evaluate: baseline, zero-ablation, the Python circuit.
def scores(logits):
    logp = logits - logits.max(axis=1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
    ce = float(-logp[np.arange(len(truth)), truth].mean())
    top1 = float((logits.argmax(axis=1) == truth).mean())
    return ce, top1


arms = {
    "baseline": [],
    "zero-ablate": [aann.zero(TAP, curves)],
    "python circuit": [aann.replace(TAP, curves, linear_curves, reads=[READ])],
}
results = {name: scores(model.run(evaluate, interventions=iv)["logits"]) for name, iv in arms.items()}
for name, (ce, top1) in results.items():
    print(f"{name:>15}: cross-entropy {ce:.4f}, top-1 {top1:.3f}")

ce_base, ce_zero, ce_circuit = (results[k][0] for k in arms)
if abs(ce_zero - ce_base) > 1e-9:
    fraction = (ce_zero - ce_circuit) / (ce_zero - ce_base)
    print(f"fraction of the cross-entropy recovered: {fraction:.1%} (16 images: a sketch, not a result)")
else:
    fraction = float("nan")
    print("zero-ablation did not change the cross-entropy on these images: no fraction")

# %% Plot, if matplotlib is there.
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib is not installed: no plot")
else:
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.bar(list(results), [ce for ce, _ in results.values()], color=["grey", "firebrick", "steelblue"])
    ax.set_ylabel("cross-entropy (nats)")
    ax.set_title(f"{TAP} curves: {fraction:.0%} recovered")
    fig.tight_layout()
    fig.savefig("splice_circuit.png", dpi=120)
    print("plot: splice_circuit.png")
