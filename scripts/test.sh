#!/usr/bin/env bash
# One command for the whole test suite on a fresh Debian 12 machine: installs dependencies,
# fetches the real test models, builds everything and runs every CPU test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh
LLCUDA_PYTHON="$root/.venv/bin/python3" scripts/fetch-models.sh all
scripts/build.sh
export LLCUDA_REQUIRE_MODELS=1   # a missing model is a failure here, not a skip
ctest --test-dir build --output-on-failure -j"$(nproc)"
