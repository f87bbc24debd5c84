#!/usr/bin/env bash
# Build the GGUF parser fuzz target with clang (libFuzzer + ASan + UBSan) and run it.
# Usage: tests/fuzz/run_gguf_fuzz.sh [max_total_time_seconds=60] [extra libFuzzer flags...]
# Needs Debian's clang and libclang-rt-14-dev. Findings (crash-*, leak-*, timeout-*) land in
# tests/fuzz/findings/; the growing corpus in tests/fuzz/corpus-work/gguf (not committed).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-60}
shift || true
out="$root/tests/fuzz/bin"
mkdir -p "$out" "$root/tests/fuzz/corpus-work/gguf" "$root/tests/fuzz/findings"
sources=(
    "$root/tests/fuzz/fuzz_gguf.cpp"
    "$root/src/core/error.cpp" "$root/src/core/ggml_type.cpp" "$root/src/core/mapped_file.cpp"
    "$root/src/gguf/value.cpp" "$root/src/gguf/contents.cpp" "$root/src/gguf/reader.cpp"
    "$root/src/gguf/describe.cpp" "$root/src/gguf/summary.cpp"
)
if [ ! -x "$out/fuzz_gguf" ] || [ -n "$(find "${sources[@]}" "$root/include" "$root/src/gguf" -newer "$out/fuzz_gguf" | head -1)" ]; then
    clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -I"$root/include" -I"$root/src" "${sources[@]}" -lfmt -o "$out/fuzz_gguf"
fi
cd "$root/tests/fuzz/findings"
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
"$out/fuzz_gguf" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 \
    -print_final_stats=1 "$@" "$root/tests/fuzz/corpus-work/gguf" "$root/tests/fuzz/seeds/gguf"
