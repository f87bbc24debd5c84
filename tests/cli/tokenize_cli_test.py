#!/usr/bin/env python3
"""`llcuda tokenize` / `detokenize` against Hugging Face `tokenizers` (the tokenizer golden files):
every single-line edge case of each tokenizer, with and without BOS and special-token parsing, plus
clear errors for bad input. Usage: tokenize_cli_test.py PATH/TO/llcuda REPO_ROOT"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from checks import Checks  # noqa: E402
from test_data import tokenizer_dir  # noqa: E402

llcuda, root = sys.argv[1], Path(sys.argv[2])
golden = root / "tests" / "golden" / "tokenizer"
cache = Path(os.environ.get("LLCUDA_MODEL_CACHE", Path.home() / ".cache" / "llcuda" / "models"))
SOURCES = {
    "llama3": ["--tokenizer", str(tokenizer_dir("llama3-instruct") / "tokenizer.json")],
    "qwen3": ["--tokenizer", str(tokenizer_dir("qwen3") / "tokenizer.json")],
    "mistral": ["--tokenizer", str(tokenizer_dir("mistral-7b") / "tokenizer.json")],
    "smollm2": ["-m", str(cache / "SmolLM2-135M-Instruct.Q4_1.gguf")],
    "gemma3": ["-m", str(cache / "gemma-3-270m-q4_k_m.gguf")],
}
check = Checks()


def run(args, stdin=None):
    return subprocess.run([llcuda] + args, capture_output=True, input=stdin)


for name, source in SOURCES.items():
    if not Path(source[1]).exists():
        (check.missing_model if source[0] == "-m" else check.missing_data)(source[1])
        continue
    cases = [json.loads(l) for l in (golden / f"{name}.edge.jsonl").read_text().splitlines() if l.strip()]
    lines = []
    for c in cases:
        raw = bytes.fromhex(c["input_hex"])
        if c["valid_utf8"] and b"\n" not in raw and b"\r" not in raw and raw:
            lines.append((raw, c))
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "input.txt"
        path.write_bytes(b"\n".join(raw for raw, _ in lines) + b"\n")
        for flags, field in (([], "ids"), (["--no-bos"], "ids_plain"), (["--no-special"], "ids_nospecial")):
            out = run(["tokenize"] + source + ["-f", str(path), "--json"] + flags)
            check(out.returncode == 0, f"{name} {flags}: exit {out.returncode} {out.stderr[:300]!r}")
            # Split on "\n" only: pieces may hold U+2028 or U+0085, which str.splitlines() also splits on.
            got = [json.loads(l)["ids"] for l in out.stdout.split(b"\n") if l]
            check(len(got) == len(lines), f"{name} {flags}: {len(got)} outputs for {len(lines)} lines")
            mismatches = [c["input_hex"] for (raw, c), ids in zip(lines, got) if ids != c[field]]
            check(not mismatches, f"{name} {flags}: {len(mismatches)} mismatches, first input {mismatches[:1]}")
        # detokenize gives back HF's decoded text for a few cases
        for raw, c in lines[:10]:
            out = run(["detokenize"] + source + [str(i) for i in c["ids"]])
            check(out.returncode == 0 and out.stdout.decode()[:-1] == c["decoded"],
                  f"{name} detokenize {c['input_hex']}: {out.stdout[:100]!r} != {c['decoded'][:100]!r}")
    print(f"{name}: {len(lines)} single-line edge cases compared in 3 modes")

# Bad input: a clear message and exit code 1, never a crash.
smol = SOURCES["smollm2"]
for args, fragment in ((["tokenize", "--tokenizer", "/nonexistent/tokenizer.json", "-p", "x"], "nonexistent"),
                       (["tokenize", "-p", "x"], "exactly one"),
                       (["detokenize"] + smol + ["5", "99999999"], "outside the vocabulary"),
                       (["detokenize"] + smol + ["-1"], "outside the vocabulary")):
    if not Path(smol[1]).exists() and "-m" in args:
        continue  # already recorded as missing above
    out = run(args)
    check(out.returncode == 1 and fragment in out.stderr.decode(), f"{args}: exit {out.returncode}, {out.stderr[:200]!r}")
with tempfile.TemporaryDirectory() as d:
    bad = Path(d) / "tokenizer.json"
    bad.write_text("{ not json")
    out = run(["tokenize", "--tokenizer", str(bad), "-p", "x"])
    check(out.returncode == 1 and out.stderr, f"invalid tokenizer.json: exit {out.returncode}")
check.finish()
