#!/usr/bin/env bash
# Prepare the Debian libraries llcuda builds against, for the lent GPU machine. That machine has
# CUDA, CMake, ninja and a C++20 compiler but none of our -dev packages and no network, so we
# download the .deb files here into .gpu-deps/ (kept out of git by .git/info/exclude) and carry
# that folder (cpp-httplib and its libraries too, for `llcuda serve` and bench/serve_bench.py);
# scripts/gpu-test.sh unpacks them there under /tmp/deps (never into /).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mkdir -p .git/info .gpu-deps
grep -qx '/.gpu-deps/' .git/info/exclude 2>/dev/null || echo '/.gpu-deps/' >> .git/info/exclude
cd .gpu-deps
apt-get download nlohmann-json3-dev libcli11-dev libfmt-dev libfmt9 libpcre2-dev libpcre2-8-0 \
    libpcre2-16-0 libpcre2-32-0 libpcre2-posix3 libicu-dev libicu72 libgtest-dev \
    pkgconf pkgconf-bin libpkgconf3 \
    libcpp-httplib-dev libcpp-httplib0.11 libssl-dev libssl3 libbrotli-dev libbrotli1 zlib1g-dev zlib1g
# The jsonschema package and its needs as wheels for that machine's python (3.12), for the
# `grammar` step of scripts/gpu-test.sh (installed there under /tmp, never into its site-packages).
rm -rf py && mkdir py
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d py \
    jsonschema attrs jsonschema-specifications referencing rpds-py typing-extensions
du -sh .
