#!/usr/bin/env bash
# Builds the chat-template libFuzzer target outside CMake and prepares a seed corpus from the
# golden templates. Usage: tests/fuzz/build_template_fuzz.sh [outdir]   (default build-fuzz-template)
# Then: <outdir>/fuzz_template <outdir>/corpus -dict=tests/fuzz/template.dict -max_total_time=600
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$root/build-fuzz-template}"
mkdir -p "$out/corpus"
clang++ -std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=undefined -I"$root/include" -I"$root/src" \
  "$root/tests/fuzz/fuzz_template.cpp" "$root"/src/template/*.cpp -lfmt -o "$out/fuzz_template"
python3 - "$root/tests/golden/template" "$out/corpus" <<'PY'
import json, os, sys, hashlib
src, dst = sys.argv[1], sys.argv[2]
texts = []
for name in sorted(os.listdir(src)):
    doc = json.load(open(os.path.join(src, name), encoding="utf-8"))
    if "template" in doc:
        texts.append(doc["template"])
    texts += [s["template"] for s in doc.get("snippets", [])]
for t in texts:
    data = t.encode("utf-8")
    open(os.path.join(dst, hashlib.sha1(data).hexdigest()), "wb").write(data)
print(f"{len(texts)} seed templates in {dst}")
PY
echo "built $out/fuzz_template"
