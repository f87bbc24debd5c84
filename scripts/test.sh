#!/usr/bin/env bash
# One command for the whole test suite on a fresh Debian 12 machine: installs dependencies,
# fetches the real test models, builds everything, unpacks and checks the test data (tests/data)
# and runs every CPU test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh
LLCUDA_PYTHON="$root/.venv/bin/python3" scripts/fetch-models.sh all
scripts/build.sh
# The build already unpacked tests/data into build/test-data; check it again (sha256) right before
# the tests read it, so a stale or edited copy fails here rather than as a confusing mismatch.
scripts/prepare-test-data.sh build/test-data
export LLCUDA_REQUIRE_MODELS=1   # a missing model is a failure here, not a skip
# GPU tests (label gpu) need a GPU; scripts/gpu-test.sh runs them on the GPU machine.
ctest --test-dir build --output-on-failure -j"$(nproc)" -LE gpu
# The server under hostile traffic and client hang-ups again, in an AddressSanitizer + UBSan build
# (CPU only, a second build: ~7 minutes on 2 cores): memory errors, leaks, undefined behaviour.
# LLCUDA_TEST_ASAN=0 skips it.
if [ "${LLCUDA_TEST_ASAN:-1}" != 0 ]; then
    scripts/asan-server.sh 'hostile|disconnect'
fi
