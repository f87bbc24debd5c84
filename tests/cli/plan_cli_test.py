#!/usr/bin/env python3
"""`llcuda recommend` and `llcuda quantize --dry-run`: one planner, so one answer. For Gemma-3-270M
at 0.7 GiB (where the two used to disagree: "nothing fits" against Q6_K) and a grid of budgets
and strategies, both print the same plan. The plan is checked against the gguf package's reading
of the model: the file's own preset is planned at exactly the bytes llama-quantize wrote, and the
KV cache per token is n_layer * n_head_kv * (key_length + value_length) * element size.
Usage: plan_cli_test.py PATH/TO/llcuda REPO_ROOT"""
import json
import sys
from pathlib import Path

import gguf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from checks import Checks  # noqa: E402
from cli_support import GEMMA3, SMOLLM2, describe, require_models, run  # noqa: E402

llcuda, root = sys.argv[1], Path(sys.argv[2])
check = Checks()
require_models(check, SMOLLM2, GEMMA3)


def recommend(*args):
    out = run(llcuda, ["recommend", *args])
    check(out.returncode == 0, f"recommend {args}: {describe(out)}")
    return out.stdout.decode()


def recommend_json(*args):
    text = recommend(*args, "--json")
    return json.loads(text) if text else {}


def field(reader, key):
    f = reader.fields[key]
    return f.contents() if hasattr(f, "contents") else f.parts[f.data[0]].tolist()[0]


# The Gemma case of the issue: both commands print the same plan at 0.7 GiB; and at 1.2 GiB (the
# model, a 4096 context and the CUDA backend's ~0.7 GiB of context and buffers, as measured) one fits.
plan = recommend(GEMMA3, "--vram", "0.7")
out = run(llcuda, ["quantize", GEMMA3, "--dry-run", "--vram", "0.7"])
check(out.returncode == 0 and out.stdout.decode() == plan,
      f"Gemma-3 at 0.7 GiB: quantize --dry-run printed\n{out.stdout.decode()}\nrecommend printed\n{plan}")
j = recommend_json(GEMMA3, "--vram", "1.2")
budget = 1.2 * (1 << 30)
check(j.get("recommended") is not None and j["recommended"]["total_bytes"] <= budget
      and j["recommended"]["max_context"] >= 4096,
      f"Gemma-3 at 1.2 GiB: recommended {j.get('recommended')}, which must fit 1.2 GiB with a 4096 context")
check(j.get("recommended") is not None and j["recommended"]["total_bytes"] <= j["budget_bytes"],
      "the recommendation does not fit its budget")

# Every budget and strategy: the same plan from both commands (the old paths disagreed at several).
n_same = 0
for model in (SMOLLM2, GEMMA3):
    for vram in ("0.25", "0.5", "0.7", "1", "4"):
        for strategy in ("aggressive", "balanced", "quality", "minimal"):
            args = ["--vram", vram, "--strategy", strategy, "--ctx", "8192"]
            a = run(llcuda, ["recommend", model] + args)
            b = run(llcuda, ["quantize", model, "--dry-run"] + args)
            same = a.returncode == 0 and a.stdout == b.stdout
            check(same, f"{model.name} {args}: recommend and quantize --dry-run differ: {describe(b)}")
            n_same += same
print(f"recommend and quantize --dry-run agree on {n_same} plans")

# Against the gguf package: the file's own preset, planned, is what is stored; the KV formula.
for model, own_preset in ((SMOLLM2, "Q4_1"), (GEMMA3, "Q4_K_M")):
    reader = gguf.GGUFReader(model)
    stored = sum(int(t.n_bytes) for t in reader.tensors)
    j = recommend_json(model, "--vram", "8")
    planned = {c["type"]: c["weight_bytes"] for c in j.get("candidates", [])}
    check(planned.get(own_preset) == stored, f"{model.name}: {own_preset} planned {planned.get(own_preset)}, stored {stored}")
    arch = field(reader, "general.architecture")
    n_layer = field(reader, f"{arch}.block_count")
    n_head = field(reader, f"{arch}.attention.head_count")
    n_head_kv = field(reader, f"{arch}.attention.head_count_kv")
    default_dim = field(reader, f"{arch}.embedding_length") // n_head
    k = field(reader, f"{arch}.attention.key_length") if f"{arch}.attention.key_length" in reader.fields else default_dim
    v = field(reader, f"{arch}.attention.value_length") if f"{arch}.attention.value_length" in reader.fields else k
    elements = n_layer * n_head_kv * (k + v)
    want = {"f16": elements * 2, "q8_0": elements // 32 * 34}
    check(j.get("kv_bytes_per_token") == want, f"{model.name}: KV per token {j.get('kv_bytes_per_token')}, want {want}")
    check(j.get("exact_sizes") is True, f"{model.name}: sizes not exact")
    # quantize --dry-run without a budget lists the same sizes.
    out = run(llcuda, ["quantize", model, "--dry-run"])
    rows = [line.split() for line in out.stdout.decode().splitlines()[1:]]
    listed = [(r[0], r[1]) for r in rows]
    want_rows = [(c["type"], f"{c['weight_bytes'] / 2**20:.1f}") for c in j.get("candidates", [])]
    check(out.returncode == 0 and listed == want_rows, f"{model.name}: --dry-run sizes {listed} != plan {want_rows}")

# Without a model file: nominal sizes, and the recommendation fits.
j = recommend_json("--params", "8", "--vram", "6")
check(j.get("exact_sizes") is False and j.get("recommended") is not None and
      j["recommended"]["total_bytes"] <= j["budget_bytes"], f"--params 8 --vram 6: {j.get('recommended')}")
j = recommend_json("--params", "70", "--vram", "8")
check(j.get("recommended", 0) is None and not any(c["fits"] for c in j.get("candidates", [])), "70B in 8 GiB fits?")

# --params takes a unit (8B, 8000M, 7000K, 0.008T) or a plain count (8e9); a bare number below a
# million keeps its old meaning, billions. All are the same request, and the unit read is said.
base = recommend_json("--params", "8B", "--vram", "6")
for value in ("8e9", "8000000000", "8000M", "8000000K", "0.008T", "8"):
    j = recommend_json("--params", value, "--vram", "6")
    check(j.get("parameters") == 8_000_000_000 and j == base, f"--params {value}: {j.get('parameters')} != 8e9")
out = run(llcuda, ["recommend", "--params", "8e9", "--vram", "16"])
check(out.returncode == 0 and b"--params 8e9 read as 8 billion parameters" in out.stderr
      and b"8.0B-parameter" in out.stdout, f"--params 8e9 --vram 16: {describe(out)} {out.stdout[:200]!r}")
for value in ("-3", "0", "eight", "8X"):
    out = run(llcuda, ["recommend", "--params", value, "--vram", "16"])
    check(out.returncode == 1 and f"--params {value}: give a positive parameter count".encode() in out.stderr,
          f"--params {value}: {describe(out)}")

# Bad requests: non-zero exit and the problem named, the same way in both commands.
for args, needle in ((["recommend", "--vram", "8"], b"either a model file or --params"),
                     (["recommend", str(SMOLLM2), "--params", "1", "--vram", "8"], b"either a model file or --params"),
                     (["recommend", str(SMOLLM2)], b"--vram"),
                     (["recommend", str(SMOLLM2), "--vram", "0"], b"must be positive"),
                     (["recommend", str(SMOLLM2), "--vram", "8", "--strategy", "greedy"], b"unknown strategy 'greedy'"),
                     (["quantize", str(SMOLLM2), "--dry-run", "--vram", "8", "--strategy", "greedy"], b"unknown strategy 'greedy'"),
                     (["quantize", str(SMOLLM2), "--dry-run", "--vram", "-1"], b"must be positive"),
                     (["recommend", "/nonexistent/model.gguf", "--vram", "8"], b"/nonexistent/model.gguf"),
                     (["quantize", str(SMOLLM2)], b"give OUT.gguf and TYPE"),
                     (["quantize", str(SMOLLM2), "/nonexistent/out.gguf", "Q4_0", "--vram", "8"], b"--dry-run")):
    out = run(llcuda, args)
    check(out.returncode != 0 and needle in out.stderr, f"{args}: want {needle!r}, {describe(out)}")
check.finish()
