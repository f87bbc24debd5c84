#!/usr/bin/env bash
# The real test models travel to the GPU machine in parts (each call carries at most 64 MiB with the
# working tree, and that machine has no network). Here: split them into .gpu-models/<name>.d/partNN;
# there: each call that carries a part stashes it outside the tree (a carried folder replaces the
# one already there), and `join` assembles the stashed parts into the model cache, checking each
# model's sha256.
#   bash scripts/gpu-models.sh split [PART_MB]      (here; .gpu-models is kept out of git)
#   bash scripts/gpu-models.sh stash                (there, in every call that carries parts)
#   bash scripts/gpu-models.sh join CACHE_DIR       (there; called by scripts/gpu-test.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
models=(SmolLM2-135M-Instruct.Q4_1.gguf gemma-3-270m-q4_k_m.gguf)
stash=${LLCUDA_PARTS_STASH:-/tmp/llcuda-model-parts}
case ${1:-} in
split)
    mb=${2:-24}
    cache=${LLCUDA_MODEL_CACHE:-$HOME/.cache/llcuda/models}
    mkdir -p .git/info .gpu-models
    grep -qx '/.gpu-models/' .git/info/exclude 2>/dev/null || echo '/.gpu-models/' >> .git/info/exclude
    for m in "${models[@]}"; do
        [ -f "$cache/$m" ] || { echo "missing $cache/$m (run scripts/fetch-models.sh)"; exit 1; }
        mkdir -p ".gpu-models/$m.d"
        (cd "$cache" && sha256sum "$m") > ".gpu-models/$m.d/SHA256"
        split -b "${mb}M" -d -a 2 "$cache/$m" ".gpu-models/$m.d/part"
    done
    find .gpu-models -type f | sort
    ;;
stash)
    mkdir -p "$stash"
    [ -d .gpu-models ] && cp -r .gpu-models/. "$stash/"
    find "$stash" -type f | sort
    ;;
join)
    cache=$2
    mkdir -p "$cache"
    [ -d .gpu-models ] && mkdir -p "$stash" && cp -r .gpu-models/. "$stash/"
    for m in "${models[@]}"; do
        d=$stash/$m.d
        [ -f "$d/SHA256" ] || continue
        [ -f "$cache/$m" ] && (cd "$cache" && sha256sum -c --quiet "$d/SHA256" 2>/dev/null) && { echo "$m ready"; continue; }
        cat "$d"/part* > "$cache/$m.tmp" && mv "$cache/$m.tmp" "$cache/$m"
        if (cd "$cache" && sha256sum -c --quiet "$d/SHA256"); then echo "$m joined"
        else echo "$m incomplete ($(ls "$d" | grep -c part) parts here)"; rm -f "$cache/$m"; fi
    done
    ;;
*) echo "usage: $0 split [PART_MB] | stash | join CACHE_DIR"; exit 2 ;;
esac
