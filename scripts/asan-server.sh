#!/usr/bin/env bash
# The server's API, hostile-traffic and client-disconnect tests against an AddressSanitizer +
# UndefinedBehaviorSanitizer build of `llcuda` (CPU backend, SmolLM2): memory errors, leaks and
# undefined behaviour under 1,000 malformed requests and 64 streams with random hang-ups. Every
# sanitizer report goes to a file under build-asan/sanitizer/; the run fails when the tests fail,
# when no test matched, or when any report exists. scripts/test.sh (CI) runs the hostile-traffic and
# disconnect tests this way; all three need scripts/test.sh to have set the machine up first
# (dependencies, Python environment, test models).
#   bash scripts/asan-server.sh [TESTS]    TESTS: a regex of test names, default 'api|hostile|disconnect'
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=build-asan
# -O1 -g1 (line tables): half the build time of -O2 -g on a 2-core machine, and still readable reports
flags="-O1 -g1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=None -DLLCUDA_CUDA=OFF -DLLCUDA_BUILD_BENCH=OFF \
    -DLLCUDA_PYTHON=OFF -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" > /dev/null
cmake --build "$build" --target llcuda_cli llcuda_test_data
reports=$root/$build/sanitizer
rm -rf "$reports" && mkdir -p "$reports"
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1"
export LLCUDA_REQUIRE_MODELS=1
status=0
tests=${1:-api|hostile|disconnect}
ctest --test-dir "$build" -R "^server_(${tests})\$" --no-tests=error --output-on-failure || status=1
if compgen -G "$reports/*" > /dev/null; then
    echo "sanitizer reports:"
    for f in "$reports"/*; do echo "== $f"; head -40 "$f"; done
    status=1
else
    echo "no sanitizer reports"
fi
exit $status
