#!/usr/bin/env bash
# README's test command: the Rust workspace's tests, then the Python package built into a
# fresh virtual environment and its pytest suite. Needs the data folder at ../shared/data
# (or $AANN_DATA).
set -euo pipefail
cd "$(dirname "$0")"
export AANN_DATA="${AANN_DATA:-$(cd .. && pwd)/shared/data}"
cargo test --workspace --locked
bindings/python/test.sh
