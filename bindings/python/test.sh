#!/usr/bin/env bash
# Build the `aann` Python package and run its tests, on a fresh machine:
#   bindings/python/test.sh
# Creates a virtual environment (default target/python-venv; set AANN_PY_VENV to choose),
# installs maturin, numpy and pytest into it, builds the package into it with
# `maturin develop` (using $CARGO_TARGET_DIR when set), builds the `aann` command line to
# compare `check_claims` with `aann check`, and runs pytest. Needs python3 (3.9+) and the
# shared data ($AANN_DATA, else ../shared/data). Extra arguments go to pytest.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
venv="${AANN_PY_VENV:-$target/python-venv}"
export AANN_DATA="${AANN_DATA:-$(cd "$repo/.." && pwd)/shared/data}"
export AANN_CACHE="${AANN_CACHE:-$target/aann-cache-python}"

start=$(date +%s)
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet "maturin>=1.9.4,<2" numpy pytest

# `maturin develop` needs VIRTUAL_ENV to know where to install.
export VIRTUAL_ENV="$venv"
export PATH="$venv/bin:$PATH"
(cd "$here" && maturin develop --quiet)
cargo build --quiet --manifest-path "$repo/Cargo.toml" -p aann-cli
export AANN_CLI="$target/debug/aann"
built=$(date +%s)

(cd "$here" && python -m pytest -q "$@")
end=$(date +%s)
echo "build $((built - start)) s, tests $((end - built)) s"
