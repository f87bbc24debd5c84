#!/usr/bin/env python3
"""`llcuda convert` and `llcuda export` on the tiny transformers checkpoints of tests/golden/convert
(made by tests/oracles/convert_golden.py):
  - convert: the gguf package reads back the metadata, tensor names and shapes and vocabulary that
    llama.cpp's converter writes (the *_expected_gguf.json golden); the converted model's
    log-softmax equals transformers'; --type Q8_0 gives Q8_0 matrices; -q silences progress;
  - export: the merged model's log-softmax equals PEFT's merge_and_unload; --lora-only writes a
    llama.cpp LoRA adapter whose W + (alpha / r) * B @ A, computed by numpy, is the merged weight;
  - bad input is a clear error.
Usage: convert_cli_test.py PATH/TO/llcuda REPO_ROOT PATH/TO/engine_reference"""
import json
import sys
import tempfile
from pathlib import Path

import gguf
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from checks import Checks  # noqa: E402
from cli_support import describe, run  # noqa: E402

llcuda, root, reference = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
golden = root / "tests" / "golden" / "convert"
check = Checks()
TOLERANCE = 2e-3  # max |d log-prob| for F32 output, as tests/convert/test_convert_logits.cpp


def field(reader, key):
    f = reader.fields[key]
    return f.contents() if hasattr(f, "contents") else f.parts[f.data[0]].tolist()[0]


def max_logit_error(model, logits_golden):
    """Largest |log-softmax difference| between the engine on `model` and transformers' golden rows."""
    g = json.loads(logits_golden.read_text())
    out = run(reference, ["rows", model] + g["tokens"])
    check(out.returncode == 0, f"engine_reference rows {model}: {describe(out)}")
    if out.returncode != 0:
        return float("inf")
    return float(np.abs(np.array(json.loads(out.stdout)["rows"]) - np.array(g["log_softmax"])).max())


def tensors(path):
    return {t.name: t for t in gguf.GGUFReader(path).tensors}


with tempfile.TemporaryDirectory() as d:
    tmp = Path(d)
    base = tmp / "base.gguf"
    out = run(llcuda, ["convert", golden / "llama", base, "--type", "F32"])
    check(out.returncode == 0 and base.exists(), f"convert: {describe(out)}")
    check(out.stderr.count(b"] blk.") > 0 and b"wrote " in out.stderr, f"convert progress: {out.stderr[:300]!r}")

    # Metadata, tensors and vocabulary as llama.cpp's converter writes them.
    expected = json.loads((golden / "llama_expected_gguf.json").read_text())
    reader = gguf.GGUFReader(base)
    for key, want in expected["keys"].items():
        got = field(reader, key) if key in reader.fields else None
        same = got == want or (isinstance(want, float) and got is not None and abs(got - want) <= 1e-6 * abs(want))
        check(same, f"convert: {key} = {got!r}, llama.cpp writes {want!r}")
    shapes = {t.name: [int(n) for n in t.shape] for t in reader.tensors}
    check(shapes == expected["tensors"], f"convert: tensors {sorted(set(shapes) ^ set(expected['tensors']))} differ")
    check(field(reader, "tokenizer.ggml.tokens") == expected["tokens"], "convert: vocabulary differs")
    error = max_logit_error(base, golden / "llama_logits.json")
    check(error < TOLERANCE, f"convert: max |d log-softmax| {error} vs transformers")
    print(f"convert llama F32: {len(shapes)} tensors, max |d log-softmax| vs transformers {error:.2g}")

    # --type Q8_0: the matrices become Q8_0; -q: only the closing line on stderr.
    q8 = tmp / "q8.gguf"
    out = run(llcuda, ["convert", golden / "llama", q8, "--type", "Q8_0", "-q"])
    check(out.returncode == 0 and out.stderr.count(b"\n") == 1 and out.stderr.startswith(b"wrote "),
          f"convert -q: {describe(out)}")
    types = {t.name: t.tensor_type for t in gguf.GGUFReader(q8).tensors}
    check(types.get("blk.0.attn_q.weight") == gguf.GGMLQuantizationType.Q8_0, f"--type Q8_0: {types}")

    # export: merged into the HF base, the logits of PEFT's merge_and_unload.
    merged = tmp / "merged.gguf"
    out = run(llcuda, ["export", "--base", golden / "llama", "--lora", golden / "lora_llama", merged, "--type", "F32", "-q"])
    check(out.returncode == 0 and b"LoRA applied to" in out.stderr, f"export: {describe(out)}")
    error = max_logit_error(merged, golden / "lora_llama_logits.json")
    check(error < TOLERANCE, f"export: max |d log-softmax| {error} vs PEFT")
    unmerged = max_logit_error(base, golden / "lora_llama_logits.json")
    check(unmerged > 0.05, f"the base alone is as close to PEFT's merge ({unmerged}): the check proves nothing")
    print(f"export lora_llama: max |d log-softmax| vs PEFT {error:.2g} (base alone {unmerged:.2g})")

    # export --lora-only: a llama.cpp LoRA adapter that reproduces the merge.
    adapter = tmp / "adapter.gguf"
    out = run(llcuda, ["export", "--base", golden / "llama", "--lora", golden / "lora_llama", adapter, "--lora-only", "-q"])
    check(out.returncode == 0, f"export --lora-only: {describe(out)}")
    reader = gguf.GGUFReader(adapter)
    check(field(reader, "general.type") == "adapter" and field(reader, "adapter.type") == "lora",
          "--lora-only: not a LoRA adapter GGUF")
    alpha = float(field(reader, "adapter.lora.alpha"))
    lora, w_base, w_merged = tensors(adapter), tensors(base), tensors(merged)
    pairs = [n[:-len(".lora_a")] for n in lora if n.endswith(".lora_a")]
    check(len(pairs) > 0 and all(p + ".lora_b" in lora for p in pairs), f"--lora-only: tensors {sorted(lora)}")
    worst = 0.0
    for name in pairs:
        a = np.array(lora[name + ".lora_a"].data, dtype=np.float64)  # (r, in)
        b = np.array(lora[name + ".lora_b"].data, dtype=np.float64)  # (out, r)
        rebuilt = np.array(w_base[name].data, dtype=np.float64) + alpha / a.shape[0] * (b @ a)
        worst = max(worst, float(np.abs(rebuilt - np.array(w_merged[name].data, dtype=np.float64)).max()))
    check(worst < 1e-5, f"--lora-only: W + alpha/r * B @ A differs from the merged weight by {worst}")
    print(f"export --lora-only: {len(pairs)} adapted matrices, max |rebuilt - merged| {worst:.2g}")

    # Bad input.
    for args, needle in ((["convert", tmp / "no-such-dir", tmp / "x.gguf"], b"no-such-dir"),
                         (["convert", golden / "llama", tmp / "x.gguf", "--type", "Q9_9"], b"Q9_9"),
                         (["export", "--base", golden / "llama", tmp / "x.gguf"], b"--lora"),
                         (["export", "--base", golden / "llama", "--lora", tmp / "no-adapter", tmp / "x.gguf"], b"no-adapter")):
        out = run(llcuda, args)
        check(out.returncode != 0 and needle in out.stderr and not (tmp / "x.gguf").exists(),
              f"{args}: want {needle!r}, {describe(out)}")
check.finish()
