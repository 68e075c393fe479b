"""The cost of a Python circuit against the same intervention in Rust, on the same images.

Zero-ablating the 17 curve detectors of BVLC's inception_3b_output, once with the library's
`aann.zero` and once with a Python callable that returns zeros (the same numbers, checked),
over the first N imagenet-val images at batch 16; each timed twice, interleaved, best kept.

    python bench/python/callable_cost.py [N]    # with the package installed (bindings/python)
"""

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

import aann

data = Path(os.environ.get("AANN_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
n = int(sys.argv[1]) if len(sys.argv) > 1 else 64
images = sorted((data / "imagenet-val" / "images").iterdir())[:n]
tap = "inception_3b_output"
curves = "family:circuits/families/bvlc/curves-3b.toml"
model = aann.Model("bvlc", data=data)
k = len(aann.zero(tap, curves).channels)


def zeros(taps):
    a = taps["inception_3a_output"]
    return np.zeros((a.shape[0], k, a.shape[2], a.shape[3]), dtype=np.float32)


arms = {
    "rust (aann.zero)": aann.zero(tap, curves),
    "python callable": aann.replace(tap, curves, zeros, reads=["inception_3a_output"]),
}
best = {name: float("inf") for name in arms}
logits = {}
model.run(images[:16], interventions=[arms["rust (aann.zero)"]])  # warm up
for _ in range(2):
    for name, arm in arms.items():
        t = time.perf_counter()
        out = model.run(images, interventions=[arm], batch_size=16)
        best[name] = min(best[name], time.perf_counter() - t)
        logits[name] = out["logits"]
diff = float(np.abs(logits["rust (aann.zero)"] - logits["python callable"]).max())
rows = {name: {"seconds": s, "images_per_second": n / s} for name, s in best.items()}
print(json.dumps({"images": n, "batch_size": 16, "max_logit_difference": diff, "arms": rows}, indent=2))
