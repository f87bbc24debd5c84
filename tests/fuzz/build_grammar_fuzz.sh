#!/usr/bin/env bash
# Builds the grammar libFuzzer target (GBNF parser + automaton, JSON Schema converter) outside
# CMake, with seeds from the grammar tests. Usage: tests/fuzz/build_grammar_fuzz.sh [outdir]
# (default build-fuzz-grammar). Then: <outdir>/fuzz_grammar <outdir>/corpus -max_total_time=600
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$root/build-fuzz-grammar}"
mkdir -p "$out/corpus"
clang++ -std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=undefined -I"$root/include" -I"$root/src" \
  "$root/tests/fuzz/fuzz_grammar.cpp" "$root"/src/grammar/{gbnf_parser,gbnf_text,automaton,schema_pattern,json_schema,matcher,token_trie}.cpp \
  "$root/src/core/error.cpp" -lfmt -o "$out/fuzz_grammar"
python3 - "$root" "$out/corpus" <<'PY'
import hashlib, json, os, pathlib, sys
root, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
seeds = []
for f in sorted((root / "tests/grammar/schemas").glob("*.json")):
    seeds.append(b"\x01" + f.read_bytes())
golden = json.loads((root / "tests/golden/grammar/llama_cpp_masks.json").read_text())
for text in golden["grammars"].values():
    seeds.append(b"\x00" + text.encode() + b"\x00{\"a\": [1, 2.5e3, \"\\u00e9\"]}")
    seeds.append(b"\x02" + text.encode() + b"\x00{\"a\": [1, 2.5e3, \"\\u00e9\"]}")
# Frames: bounded strings in list items and nested rules (the Matcher walk mode).
seeds.append(b'\x02root ::= ("<" [a-z]{0,6} ">" [ ]?){1,5} "."\x00<ab> <cde>.')
seeds.append(b'\x02root ::= "[" item ("," item)* "]"\nitem ::= "{\\"n\\":\\"" [^"]{0,5} "\\"}"\x00[{"n":"ab"},{"n":""}]')
for s in seeds:
    (dst / hashlib.sha1(s).hexdigest()).write_bytes(s)
print(f"{len(seeds)} seeds in {dst}")
PY
echo "built $out/fuzz_grammar"
