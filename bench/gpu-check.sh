#!/usr/bin/env bash
# The GPU check, in one go (about five minutes on one modern GPU once built):
#   1. the oracle tests on the GPU backend (every tap of both models against Caffe's and
#      TensorFlow's own activations, and the GPU's logits against the CPU's);
#   2. the benchmark on the GPU (forward, K-condition experiment, arms stacked per pass);
#   3. a small experiment run on the CPU and on the GPU, compared image by image: the same
#      top-1 answer on every image under every arm, cross-entropy within 1e-4.
#
#   bench/gpu-check.sh                       # wgpu through Vulkan (the NVIDIA driver has it)
#   FEATURES=cuda DEVICE=cuda bench/gpu-check.sh    # with the CUDA toolkit installed
#
# Results go to $OUT (default bench/results/gpu-check); record them in BENCHMARKS.md with the
# device and driver.
set -euo pipefail
cd "$(dirname "$0")/.."
FEATURES=${FEATURES:-vulkan}
DEVICE=${DEVICE:-wgpu}
OUT=${OUT:-bench/results/gpu-check}
IMAGES=${IMAGES:-64}
export AANN_DATA=${AANN_DATA:-../shared/data}
mkdir -p "$OUT"

cargo build --release -p aann --features "$FEATURES"
aann=target/release/aann
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null || true; } > "$OUT/device.txt"

# 1. Oracles on the GPU (the test file is compiled with the wgpu feature).
cargo test --release -p aann-model --features wgpu --test gpu_oracles -- --nocapture \
    2>&1 | tee "$OUT/oracles.txt"
grep -q "test result: ok" "$OUT/oracles.txt"

# 2. Throughput.
"$aann" bench --device "$DEVICE" --models bvlc,lucid --batches 1,16,64 --experiment-batch 64 \
    --conditions 1,4 --stacked-arms 16,64 --arms-per-pass 16 --stacked-batch 16 \
    --decode-images 256 --json "$OUT/bench.json" | tee "$OUT/bench.txt"

# 3. The same small experiment on both devices, then compared record by record.
for device in cpu "$DEVICE"; do
    "$aann" experiment eval/experiments/curves-bvlc.toml --limit "$IMAGES" --device "$device" \
        --out "$OUT/experiment-$device" --fresh --set null.sets=0 \
        --set mapping_null.shuffles=0 --set run.faithfulness_images=0 --quiet \
        > "$OUT/experiment-$device.txt"
done
python3 - "$OUT/experiment-cpu" "$OUT/experiment-$DEVICE" <<'PY'
import json, sys
def records(d):
    out = {}
    for line in open(f"{d}/records.jsonl"):
        r = json.loads(line)
        out[(r["image"], r["condition"])] = r
    return out
cpu, gpu = records(sys.argv[1]), records(sys.argv[2])
assert cpu.keys() == gpu.keys(), "the two runs hold different (image, arm) pairs"
top1 = sum(c["top5"][0] != gpu[k]["top5"][0] for k, c in cpu.items())
worst = max(abs(c["loss"] - gpu[k]["loss"]) for k, c in cpu.items() if c["loss"] is not None)
print(f"{len(cpu)} records: {top1} differ in top-1; worst |Δ cross-entropy| = {worst:.2e}")
sys.exit(0 if top1 == 0 and worst <= 1e-4 else 1)
PY
echo "gpu-check: passed; results in $OUT"
