#!/usr/bin/env bash
# Peak resident memory (VmHWM, from GNU time) of `aann ablate` on growing image sets: the
# experiment streams batches, so the peak must not grow with the number of images.
#
#   bench/memory.sh            # BVLC, zero-ablation of 3b's 5x5 branch, batch 16
#
# Needs GNU time (/usr/bin/time) and the shared data folder (AANN_DATA, default ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
export AANN_DATA=${AANN_DATA:-../shared/data}
cargo build --release -p aann
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for n in 100 500 1300; do
    /usr/bin/time -f "%M" -o "$work/rss" target/release/aann ablate --model bvlc \
        --data "$AANN_DATA/imagenet-val/images" --tap inception_3b_output --channels 320..416 \
        --mode zero --limit "$n" --batch-size 16 --quiet --out "$work/run-$n" > /dev/null
    echo "images $n: peak RSS $(( $(cat "$work/rss") / 1024 )) MiB"
done
