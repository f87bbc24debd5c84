#!/usr/bin/env bash
# On a bare GPU machine (the lent H100/H200, or any Linux box with CUDA, CMake and ninja): build
# llcuda for the GPU, run the CUDA op tests, the end-to-end tests against the CPU engine and the
# benches, and print one table. Logs go to $OUT (or ./gpu-test-out).
#
#   bash scripts/gpu-test.sh [STEP...]     steps: build ops e2e bench long parallel serve ptx75 sanitize
#                                          (default: build ops e2e bench)
#
#   build     configure + build for the local GPU's architecture (LLCUDA_GPU_ARCH, default 90a) into build-gpu
#   ops       test_cuda_ops (every kernel against its CPU reference) and bench_cuda_ops (% of copy bandwidth)
#   e2e       test_cuda_e2e: greedy, KL/top-1/perplexity per weight type, batching (needs the test models)
#   bench     random-weight Llama-3 8B / 3.2-1B models made here, then `llcuda bench` on each
#   ptx75     a build of compute_75 PTX only (the T4 path, JIT-compiled here), op tests + greedy e2e
#   sanitize  compute-sanitizer memcheck and racecheck on the op tests and one generation
#   long      pp2048/pp8192 (8B, four types) and tg128 at depth 4k/16k/32k over f16 and q8_0 KV
#   parallel  llcuda bench --parallel 1,16,64 (batched decode without HTTP, 8B Q4_K_M)
#   grammar   200 constrained SmolLM2 generations per test schema at temperature 1, checked by jsonschema
#   serve     llcuda serve + bench/serve_bench.py at 1/16/64/256 clients (8B Q4_K_M)
#
# Inputs that cannot be fetched there travel with the call: .gpu-deps (scripts/gpu-deps.sh: our
# Debian -dev packages, unpacked under /tmp/deps) and .gpu-models (scripts/gpu-models.sh: the test
# models in parts, joined into the model cache here).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${OUT:-$root/gpu-test-out}
mkdir -p "$out"
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(build ops e2e bench)
arch=${LLCUDA_GPU_ARCH:-90a}
jobs=$(nproc)
summary=()
note() { summary+=("$(printf '%-10s %s' "$1" "$2")"); echo "== $1: $2"; }

deps=/tmp/deps
if [ -d .gpu-deps ] && [ ! -d "$deps/usr" ]; then
    mkdir -p "$deps"
    for f in .gpu-deps/*.deb; do dpkg -x "$f" "$deps"; done
    ln -sf pkgconf "$deps/usr/bin/pkg-config"
fi
export PKG_CONFIG_PATH="$deps/usr/lib/x86_64-linux-gnu/pkgconfig:$deps/usr/share/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$deps" PATH="$deps/usr/bin:$PATH" LD_LIBRARY_PATH="$deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
export LLCUDA_MODEL_CACHE=${LLCUDA_MODEL_CACHE:-/tmp/llcuda-models}
bash scripts/gpu-models.sh join "$LLCUDA_MODEL_CACHE" >> "$out/models.log" 2>&1

configure_build() {  # configure_build DIR ARCH
    cmake -S . -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$deps/usr" \
        -DPKG_CONFIG_EXECUTABLE="$deps/usr/bin/pkgconf" -DLLCUDA_CUDA_ARCHITECTURES="$2" -DLLCUDA_BUILD_BENCH=OFF \
        > "$out/configure-$1.log" 2>&1 && cmake --build "$1" -j"$jobs" > "$out/build-$1.log" 2>&1
}

bench_model() {  # bench_model SHAPE TYPE LOG: /tmp/bench-models/SHAPE-TYPE.gguf, written the first time
    local model=/tmp/bench-models/$1-$2.gguf
    mkdir -p /tmp/bench-models
    [ -f "$model" ] || ./build-gpu/tools/llcuda/llcuda make-bench-model --shape "$1" --type "$2" -o "$model" >> "$3" 2>&1
    echo "$model"
}

run_ops() {  # run_ops BUILD_DIR LABEL
    local log="$out/ops-$2.log"
    "$1/tests/cuda/test_cuda_ops" --gtest_brief=1 > "$log" 2>&1
    local rc=$?
    note "ops-$2" "$(grep -E '^\[  (PASSED|FAILED)' "$log" | tr '\n' ' ') (rc $rc)"
}

for step in "${steps[@]}"; do
    case $step in
    build)
        t0=$(date +%s)
        if configure_build build-gpu "$arch"; then note build "sm_$arch in $(( $(date +%s) - t0 )) s"
        else note build "FAILED (see build-build-gpu.log)"; tail -40 "$out/build-build-gpu.log"; fi
        ./build-gpu/tools/llcuda/llcuda devices | tee "$out/devices.txt"
        ;;
    ops)
        run_ops build-gpu sm90
        ./build-gpu/tests/cuda/bench_cuda_ops > "$out/bench-ops.txt" 2>&1
        note bench-ops "$(head -1 "$out/bench-ops.txt")"
        ;;
    e2e)
        (cd build-gpu && LLCUDA_REQUIRE_MODELS=1 ./tests/cuda/test_cuda_e2e --gtest_brief=1 ${LLCUDA_E2E_FILTER:+--gtest_filter=$LLCUDA_E2E_FILTER}) \
            > "$out/e2e.log" 2>&1
        note e2e "$(grep -E '^\[  (PASSED|FAILED)' "$out/e2e.log" | tr '\n' ' ')"
        grep -E "identical|mean KL|q8_0 KV|gemma3 Q4" "$out/e2e.log" | sed 's/^/           /'
        ;;
    bench)
        for spec in ${LLCUDA_BENCH_MODELS:-llama3-8b:Q4_K_M llama3-8b:Q4_0 llama3-8b:Q8_0 llama3-8b:F16 llama3.2-1b:Q4_K_M llama3.2-1b:F16}; do
            shape=${spec%%:*} type=${spec##*:}
            model=$(bench_model "$shape" "$type" "$out/bench.log")
            ./build-gpu/tools/llcuda/llcuda bench -m "$model" -p 512 -n 128 -r ${LLCUDA_BENCH_REPS:-3} \
                ${LLCUDA_BENCH_ARGS:-} >> "$out/bench.log" 2>&1 || note bench "$shape $type FAILED"
            rm -f "$model"
        done
        grep -E "pp[0-9]|tg[0-9]|ceiling|device" "$out/bench.log" | sort -u | sed 's/^/           /'
        ;;
    long)
        # Issue rows for prefill and long context: pp2048 / pp8192 for the four 8B types, then
        # tg128 at depth 4,096 / 16,384 / 32,768 over an f16 and a q8_0 KV cache (8B Q4_K_M).
        for type in Q4_K_M Q4_0 Q8_0 F16; do
            model=$(bench_model llama3-8b "$type" "$out/long.log")
            for p in 2048 8192; do
                ./build-gpu/tools/llcuda/llcuda bench -m "$model" -p $p -n 0 -r 1 >> "$out/long.log" 2>&1 || note long "$type pp$p FAILED"
            done
            [ "$type" = Q4_K_M ] || rm -f "$model"
        done
        for kv in f16 q8_0; do
            for d in 4096 16384 32768; do
                ./build-gpu/tools/llcuda/llcuda bench -m /tmp/bench-models/llama3-8b-Q4_K_M.gguf -p 0 -n 128 -d $d -r 1 \
                    --kv-type $kv >> "$out/long.log" 2>&1 || note long "d$d $kv FAILED"
            done
        done
        grep -E "^\| " "$out/long.log" | grep -v -- "---" | sort -u | sed 's/^/           /'
        ;;
    grammar)
        # Issue 14's model check: 200 SmolLM2 generations per schema of tests/grammar/schemas at
        # temperature 1 on the GPU (64 at a time), each finished one validated by the jsonschema
        # package (carried as wheels in .gpu-deps/py when the machine's python lacks it).
        if ! python3 -c "import jsonschema" 2>/dev/null && [ -d .gpu-deps/py ]; then
            python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/llcuda-pysite \
                .gpu-deps/py/*.whl >> "$out/grammar.log" 2>&1
            export PYTHONPATH=/tmp/llcuda-pysite${PYTHONPATH:+:$PYTHONPATH}
        fi
        LLCUDA_GRAMMAR_MODEL_BACKEND=cuda LLCUDA_GRAMMAR_MODEL_SAMPLES=${LLCUDA_GRAMMAR_SAMPLES:-200} \
            LLCUDA_GRAMMAR_MODEL_MAX_TOKENS=${LLCUDA_GRAMMAR_MAX_TOKENS:-1000} LLCUDA_GRAMMAR_MODEL_MIN_FINISHED=0.5 \
            python3 tests/grammar/check_schema_outputs.py ./build-gpu/tests/grammar/grammar_sample model >> "$out/grammar.log" 2>&1
        note grammar "rc $? (grammar.log)"
        grep -E "finished|do not validate|only [0-9]+ of" "$out/grammar.log" | sed 's/^/           /'
        ;;
    parallel)
        # The engine's batched decode without HTTP (llama-batched-bench's test): 8B Q4_K_M, 512-token
        # prompts, 128 generated, 1 / 16 / 64 sequences (LLCUDA_PARALLEL overrides the list).
        model=$(bench_model llama3-8b Q4_K_M "$out/parallel.log")
        ./build-gpu/tools/llcuda/llcuda bench -m "$model" --parallel "${LLCUDA_PARALLEL:-1,16,64}" -p 512 -n 128 -r 1 \
            >> "$out/parallel.log" 2>&1
        note parallel "rc $? (parallel.log)"
        grep -E "x[0-9]+ \|" "$out/parallel.log" | sed 's/^/           /'
        ;;
    serve)
        # The serving table: `llcuda serve` on the 8B Q4_K_M bench model, bench/serve_bench.py at
        # 1, 16, 64 and 256 concurrent streaming clients (512-token prompts, 128 generated).
        model=$(bench_model llama3-8b Q4_K_M "$out/serve.log")
        port=${LLCUDA_SERVE_PORT:-8090}
        # LLCUDA_SERVE_ARGS adds server flags for A/B runs (e.g. --prefill-chunk 2048).
        ./build-gpu/tools/llcuda/llcuda serve -m "$model" --backend cuda --max-seqs 256 -c 1024 --max-queue 2048 \
            --port "$port" ${LLCUDA_SERVE_ARGS:-} >> "$out/serve.log" 2>&1 &
        server=$!
        for _ in $(seq 180); do
            python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/health')" 2>/dev/null && break
            sleep 1
        done
        python3 bench/serve_bench.py --url "http://127.0.0.1:$port" --clients "${LLCUDA_SERVE_CLIENTS:-1,16,64,256}" \
            --prompt-tokens 512 --output-tokens 128 > "$out/serve-bench.txt" 2>&1
        note serve "rc $? (serve-bench.txt)"
        sed 's/^/           /' "$out/serve-bench.txt"
        kill "$server" 2>/dev/null; wait "$server" 2>/dev/null
        ;;
    ptx75)
        t0=$(date +%s)
        if configure_build build-ptx75 75-virtual; then note ptx75-build "compute_75 PTX in $(( $(date +%s) - t0 )) s"
        else note ptx75-build "FAILED"; tail -30 "$out/build-build-ptx75.log"; fi
        run_ops build-ptx75 ptx75
        (cd build-ptx75 && LLCUDA_REQUIRE_MODELS=1 ./tests/cuda/test_cuda_e2e --gtest_brief=1 \
            --gtest_filter="${LLCUDA_PTX75_E2E_FILTER:-*Greedy*:*EightPrompts*}") > "$out/e2e-ptx75.log" 2>&1
        note e2e-ptx75 "$(grep -E '^\[  (PASSED|FAILED)' "$out/e2e-ptx75.log" | tr '\n' ' ')"
        ;;
    sanitize)
        for tool in memcheck racecheck; do
            compute-sanitizer --tool $tool --error-exitcode 9 ./build-gpu/tests/cuda/test_cuda_ops --gtest_brief=1 \
                ${LLCUDA_SANITIZE_FILTER:+--gtest_filter=$LLCUDA_SANITIZE_FILTER} > "$out/sanitize-$tool-ops.log" 2>&1
            note "$tool" "ops rc $? $(grep -E 'ERROR SUMMARY' "$out/sanitize-$tool-ops.log" | tail -1)"
        done
        sanitize_model=${LLCUDA_SANITIZE_MODEL:-$LLCUDA_MODEL_CACHE/SmolLM2-135M-Instruct.Q4_1.gguf}
        for tool in memcheck racecheck; do
            compute-sanitizer --tool $tool --error-exitcode 9 ./build-gpu/tools/llcuda/llcuda run -m "$sanitize_model" \
                -p "Hello" -n 16 --temp 0 --backend cuda > "$out/sanitize-$tool-run.log" 2>&1
            note "$tool" "llcuda run rc $? $(grep -E 'ERROR SUMMARY' "$out/sanitize-$tool-run.log" | tail -1)"
        done
        ;;
    *) echo "unknown step $step"; exit 2 ;;
    esac
done
echo
echo "==== llcuda gpu-test summary ($(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)) ===="
printf '%s\n' "${summary[@]}"
