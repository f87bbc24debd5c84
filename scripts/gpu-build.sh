#!/usr/bin/env bash
# On the GPU machine: unpack the carried .gpu-deps/*.deb under /tmp/deps, build llcuda for the GPU's
# architecture (default 90a: H100/H200) into build-gpu, list the devices and run the C++ tests whose
# inputs travel (the repository's tests/data does; real models do not: those tests skip).
# Usage (device tool, carrying .gpu-deps): bash scripts/gpu-build.sh [cuda-arch]
set -euo pipefail
arch=${1:-90a}
deps=/tmp/deps
mkdir -p "$deps"
for f in .gpu-deps/*.deb; do dpkg -x "$f" "$deps"; done
ln -sf pkgconf "$deps/usr/bin/pkg-config"
export PKG_CONFIG_PATH="$deps/usr/lib/x86_64-linux-gnu/pkgconfig:$deps/usr/share/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$deps" PATH="$deps/usr/bin:$PATH" LD_LIBRARY_PATH="$deps/usr/lib/x86_64-linux-gnu"
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$deps/usr" \
    -DPKG_CONFIG_EXECUTABLE="$deps/usr/bin/pkgconf" -DLLCUDA_CUDA_ARCHITECTURES="$arch" -DLLCUDA_BUILD_BENCH=OFF
cmake --build build-gpu -j"$(nproc)"
./build-gpu/tools/llcuda/llcuda devices
status=0
for t in build-gpu/tests/*/test_*; do
    [ -x "$t" ] || continue
    echo "== $t"
    (cd build-gpu && "../$t" --gtest_brief=1) || status=1
done
exit $status
