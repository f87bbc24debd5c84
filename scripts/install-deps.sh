#!/usr/bin/env bash
# Install everything llcuda needs on Debian 12 (the CUDA toolkit itself is expected to be present
# when the CUDA backend is wanted; without nvcc the CPU path builds alone):
#   - build tools and C++ libraries from Debian's packages;
#   - a Python virtual environment in .venv with the packages the tests use as oracles.
# Safe to run repeatedly: it installs only what is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

packages=(
    build-essential cmake ninja-build pkg-config git ca-certificates
    nlohmann-json3-dev libcli11-dev libfmt-dev libpcre2-dev zlib1g-dev
    libgtest-dev libgmock-dev libbenchmark-dev
    python3 python3-venv python3-pip
)
packages+=($(cat "$root/scripts/extra-packages.txt" 2>/dev/null | grep -v '^#' || true))

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

venv="$root/.venv"
if [ ! -x "$venv/bin/python3" ]; then
    echo "creating the Python environment in $venv"
    python3 -m venv "$venv"
fi
stamp="$venv/.requirements-installed"
if [ ! -f "$stamp" ] || ! cmp -s "$root/scripts/requirements.txt" "$stamp"; then
    "$venv/bin/python3" -m pip install --quiet --disable-pip-version-check -r "$root/scripts/requirements.txt"
    cp "$root/scripts/requirements.txt" "$stamp"
fi
