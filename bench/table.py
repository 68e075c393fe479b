#!/usr/bin/env python3
"""Markdown tables from an `aann bench --json` file (as BENCHMARKS.md shows them).

    python3 bench/table.py bench/results/<run>.json
"""

import json
import re
import sys


def main(path):
    run = json.load(open(path))
    m = run["machine"]
    print(
        f"Machine: {m['cpu']}, {m['logical_cpus']} logical CPUs, {m['compute_threads']} compute "
        f"threads, device {m['device']}; load average before {m['load_average_before']}, "
        f"after {run['load_average_after']}; peak RSS of `aann bench` {run['peak_rss_mib']:.0f} MiB."
    )
    rows = run["aann"]
    torch = run.get("pytorch") or {}
    peers = {}
    for r in torch.get("results", []):
        model = "lucid" if "lucent" in r["case"] else "bvlc"
        peers[(model, r["batch"])] = (r["case"], r["images_per_second"])

    print("\n### Forward pass, images/s (224×224, median)\n")
    print("| model | batch | aann | aann (burn ops) | PyTorch | PyTorch model |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for model in ["bvlc", "lucid"]:
        for batch in sorted({r["batch"] for r in rows if r["case"].endswith("forward")}):
            get = lambda case: next(
                (r["images_per_second"] for r in rows
                 if r["case"] == case and r["model"] == model and r["batch"] == batch), None)
            ours, burn = get("aann forward"), get("aann (burn ops) forward")
            if ours is None:
                continue
            peer = peers.get((model, batch))
            fmt = lambda v: f"{v:.1f}" if v is not None else "–"
            print(f"| {model} | {batch} | **{fmt(ours)}** | {fmt(burn)} | "
                  f"{fmt(peer[1]) if peer else '–'} | {peer[0].replace('pytorch ', '') if peer else ''} |")
    if torch:
        print(f"\nPyTorch {torch['torch']}, {torch['threads']} threads, oneDNN {torch['mkldnn']}.")

    print("\n### Hooks (batch 16), images/s\n")
    print("| model | NoHooks | empty ConditionHooks | Recorder of nothing |")
    print("| --- | ---: | ---: | ---: |")
    for model in ["bvlc", "lucid"]:
        vals = [next((r["images_per_second"] for r in rows if r["model"] == model and r["case"] == c), None)
                for c in ["hooks: NoHooks", "hooks: empty ConditionHooks", "hooks: Recorder of nothing"]]
        if vals[0] is not None:
            print(f"| {model} | " + " | ".join(f"{v:.1f}" for v in vals) + " |")

    print("\n### K conditions spliced at 3b (batch 16)\n")
    print("| model | K (+ baseline) | prefix reuse, ms/batch | prefix + (K+1)×suffix, ms | no reuse, ms/batch | images/s with reuse | speed-up |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for model in ["bvlc", "lucid"]:
        pre = next((r for r in rows if r["model"] == model and r["case"].startswith("prefix to")), None)
        suf = next((r for r in rows if r["model"] == model and r["case"].startswith("suffix from")), None)
        if pre is None:
            continue
        print(f"| {model} | prefix alone | {pre['seconds_per_batch']*1e3:.0f} | | | | |")
        print(f"| {model} | one suffix alone | {suf['seconds_per_batch']*1e3:.0f} | | | | |")
        for r in rows:
            mk = re.match(r"experiment K=(\d+) at (\S+), prefix reuse", r["case"])
            if r["model"] != model or not mk:
                continue
            k = int(mk.group(1))
            indep = next((x for x in rows if x["model"] == model
                          and x["case"] == f"experiment K={k} at {mk.group(2)}, no reuse"), None)
            pred = pre["seconds_per_batch"] + (k + 1) * suf["seconds_per_batch"]
            ind = f"{indep['seconds_per_batch']*1e3:.0f}" if indep else "–"
            sp = f"{indep['seconds_per_batch']/r['seconds_per_batch']:.2f}×" if indep else "–"
            print(f"| {model} | {k} (+1) | {r['seconds_per_batch']*1e3:.0f} | {pred*1e3:.0f} | {ind} | "
                  f"{r['images_per_second']:.1f} | {sp} |")

    print("\n### Decode + preprocess (JPEG → 224×224 BVLC input), images/s\n")
    print("| images | decode threads | images/s |")
    print("| --- | ---: | ---: |")
    for r in rows:
        if r["case"].startswith("decode"):
            t = r["case"].split(", ")[1].split()[0]
            print(f"| {r['note']} | {t} | {r['images_per_second']:.0f} |")


if __name__ == "__main__":
    main(sys.argv[1])
