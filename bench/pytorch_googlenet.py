#!/usr/bin/env python3
"""PyTorch CPU peer for `aann bench`: the same two InceptionV1s, the same thread count.

- torchvision `googlenet` (BVLC GoogLeNet topology; `init_weights=True`, random weights,
  no auxiliary heads, no input transform), eval mode, at 224x224;
- a lucent-style InceptionV1 written here (Lucid "inception5h": TF SAME padding, the
  TensorFlow LRN, branch widths 4a 204 / 5a 48, 1008 outputs) with random weights, at 224x224.

Each case runs under `torch.inference_mode()` at batch 1 and 16 (warm-up, then the median of
`--reps` timed batches). Prints a table, or JSON with `--json`.

    python3 bench/pytorch_googlenet.py --threads 2 --reps 5 [--json]
"""

import argparse
import json
import platform
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def tf_same_pad(size, kernel, stride):
    """(before, after) of TensorFlow's SAME padding along one axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SameConv(nn.Conv2d):
    """Conv2d with TF "SAME" padding computed from the input size, then ReLU."""

    def forward(self, x):
        kh, kw = self.kernel_size
        sh, sw = self.stride
        t, b = tf_same_pad(x.shape[2], kh, sh)
        l, r = tf_same_pad(x.shape[3], kw, sw)
        if t or b or l or r:
            if t == b and l == r:
                return F.relu(F.conv2d(x, self.weight, self.bias, self.stride, (t, l)))
            x = F.pad(x, (l, r, t, b))
        return F.relu(super().forward(x))


def same_max_pool(x, kernel, stride):
    t, b = tf_same_pad(x.shape[2], kernel, stride)
    l, r = tf_same_pad(x.shape[3], kernel, stride)
    x = F.pad(x, (l, r, t, b), value=float("-inf"))
    return F.max_pool2d(x, kernel, stride)


def tf_lrn(x):
    # TF local_response_normalization(depth_radius=5, bias=2, alpha=1e-4, beta=0.5):
    # PyTorch divides alpha by the window size, so pass 11 * 1e-4.
    return F.local_response_norm(x, size=11, alpha=11e-4, beta=0.5, k=2.0)


class LucidMixed(nn.Module):
    def __init__(self, cin, b1, b3r, b3, b5r, b5, pp):
        super().__init__()
        self.b1 = SameConv(cin, b1, 1)
        self.b3r = SameConv(cin, b3r, 1)
        self.b3 = SameConv(b3r, b3, 3)
        self.b5r = SameConv(cin, b5r, 1)
        self.b5 = SameConv(b5r, b5, 5)
        self.pp = SameConv(cin, pp, 1)

    def forward(self, x):
        pooled = same_max_pool(x, 3, 1)
        return torch.cat(
            [self.b1(x), self.b3(self.b3r(x)), self.b5(self.b5r(x)), self.pp(pooled)], 1
        )


class LucidInceptionV1(nn.Module):
    """Lucid's InceptionV1 (inception5h) as lucent ports it, with TF's LRN."""

    WIDTHS = [
        (192, 64, 96, 128, 16, 32, 32),  # 3a
        (256, 128, 128, 192, 32, 96, 64),  # 3b
        (480, 192, 96, 204, 16, 48, 64),  # 4a
        (508, 160, 112, 224, 24, 64, 64),  # 4b
        (512, 128, 128, 256, 24, 64, 64),  # 4c
        (512, 112, 144, 288, 32, 64, 64),  # 4d
        (528, 256, 160, 320, 32, 128, 128),  # 4e
        (832, 256, 160, 320, 48, 128, 128),  # 5a
        (832, 384, 192, 384, 48, 128, 128),  # 5b
    ]

    def __init__(self):
        super().__init__()
        self.conv2d0 = SameConv(3, 64, 7, stride=2)
        self.conv2d1 = SameConv(64, 64, 1)
        self.conv2d2 = SameConv(64, 192, 3)
        self.mixed = nn.ModuleList(LucidMixed(*w) for w in self.WIDTHS)
        self.classifier = nn.Linear(1024, 1008)

    def forward(self, x):
        x = same_max_pool(self.conv2d0(x), 3, 2)
        x = tf_lrn(x)
        x = self.conv2d2(self.conv2d1(x))
        x = same_max_pool(tf_lrn(x), 3, 2)
        for i, block in enumerate(self.mixed):
            if i in (2, 7):
                x = same_max_pool(x, 3, 2)
            x = block(x)
        x = F.avg_pool2d(x, 7, 1)
        return self.classifier(torch.flatten(x, 1))


def build(name):
    torch.manual_seed(0)
    if name == "torchvision-googlenet":
        import torchvision

        model = torchvision.models.googlenet(
            weights=None, aux_logits=False, transform_input=False, init_weights=True
        )
    elif name == "lucent-inceptionv1":
        model = LucidInceptionV1()
    else:
        raise ValueError(name)
    return model.eval()


def time_model(model, batch, reps, size=224):
    x = torch.randn(batch, 3, size, size) * 50
    with torch.inference_mode():
        model(x)  # warm-up
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t)
    return statistics.median(times), times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batches", default="1,16")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument(
        "--models", default="torchvision-googlenet,lucent-inceptionv1"
    )
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    results = []
    for name in args.models.split(","):
        model = build(name)
        for batch in [int(b) for b in args.batches.split(",")]:
            median, times = time_model(model, batch, args.reps)
            results.append(
                {
                    "case": f"pytorch {name}",
                    "batch": batch,
                    "seconds_per_batch": median,
                    "images_per_second": batch / median,
                    "runs": times,
                }
            )
            if not args.json:
                print(
                    f"{name:<24} batch {batch:>3}: {batch / median:8.2f} images/s "
                    f"({median * 1e3:.1f} ms per batch, median of {args.reps})",
                    flush=True,
                )
    info = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "results": results,
    }
    if args.json:
        json.dump(info, sys.stdout, indent=1)
        print()
    else:
        print(f"torch {info['torch']}, {info['threads']} threads, oneDNN {info['mkldnn']}")


if __name__ == "__main__":
    main()
