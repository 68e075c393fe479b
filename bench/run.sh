#!/usr/bin/env bash
# aann and its PyTorch CPU peer, side by side in one run (see BENCHMARKS.md).
#
#   bench/run.sh                      # all cases, JSON in bench/results/<host>-<date>.json
#   PYTHON=/path/to/venv/bin/python THREADS=2 bench/run.sh --reps 7
#
# Needs: a Rust toolchain; a Python with torch and torchvision (PYTHON, default python3);
# the shared data folder (AANN_DATA, default ../shared/data). Extra arguments go to
# `aann bench`.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
THREADS=${THREADS:-$(nproc)}
export AANN_DATA=${AANN_DATA:-../shared/data}
OUT=${OUT:-bench/results/$(hostname)-$(date +%Y%m%d-%H%M%S).json}

if ! "$PYTHON" -c "import torch, torchvision" 2>/dev/null; then
    echo "error: $PYTHON cannot import torch and torchvision; see BENCHMARKS.md (Reproducing)" >&2
    exit 1
fi

cargo build --release -p aann
echo "machine: $(nproc) logical CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
target/release/aann bench --threads "$THREADS" --with-pytorch --python "$PYTHON" --json "$OUT" "$@"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
