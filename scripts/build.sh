#!/usr/bin/env bash
# Configure and build llcuda into ./build. The CUDA backend is built when nvcc is found
# (architectures from $LLCUDA_CUDA_ARCHITECTURES, default 75;80;86;89;90).
# Usage: scripts/build.sh [cmake --build arguments, e.g. --target llcuda_cli]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then
    export PATH=/usr/local/cuda/bin:$PATH
fi
# LLCUDA_PYTHON: the Python package's extension too (python/, built for .venv's Python; the tests
# import it from build/python).
args=(-S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLLCUDA_PYTHON=ON)
[ -n "${LLCUDA_CUDA_ARCHITECTURES:-}" ] && args+=("-DLLCUDA_CUDA_ARCHITECTURES=$LLCUDA_CUDA_ARCHITECTURES")
cmake "${args[@]}" > build-configure.log 2>&1 || { cat build-configure.log; exit 1; }
grep -E '^-- llcuda:' build-configure.log || true
cmake --build build -j"$(nproc)" "$@"
