#!/usr/bin/env python3
"""Bench models against llama.cpp's own Python package: `llcuda make-bench-model` writes the tiny
shape in several types; gguf.GGUFReader must read each file, the metadata must describe a llama
model with a Llama-3-style vocabulary, and gguf.quants.dequantize (llama.cpp's reference decoders,
not ours) must turn every tensor into finite values of the intended scale: matrices with an RMS
near 0.02 and no large bias, norm gains near 1.

Also runs `llcuda bench --backend cpu` on the tiny file: JSON and table carry a pp and a tg row
with positive speeds and no ceiling (the CPU has none).

Usage: bench_model_gguf_py.py PATH/TO/llcuda
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader
from gguf.quants import dequantize

TYPES = ["F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M",
         "Q6_K", "IQ4_NL", "IQ4_XS", "TQ2_0", "IQ2_XXS", "IQ3_S"]


def field(reader, key):
    f = reader.fields[key]
    return f.contents()


def check_file(path: Path, type_name: str, failures: list):
    reader = GGUFReader(str(path))
    def fail(msg):
        failures.append(f"{type_name}: {msg}")
    if field(reader, "general.architecture") != "llama":
        fail("general.architecture is not llama")
    if field(reader, "llama.block_count") != 2 or field(reader, "llama.embedding_length") != 256:
        fail("block_count / embedding_length differ from the tiny shape")
    tokens = field(reader, "tokenizer.ggml.tokens")
    if len(tokens) != 512 or len(set(tokens)) != 512:
        fail(f"expected 512 unique tokens, got {len(tokens)} ({len(set(tokens))} unique)")
    if field(reader, "tokenizer.ggml.model") != "gpt2" or tokens[496] != "<|begin_of_text|>":
        fail("not a Llama-3-style byte-level vocabulary")
    merges = field(reader, "tokenizer.ggml.merges")
    vocab = set(tokens)
    for m in merges:
        left, right = m.split(" ", 1)
        if left not in vocab or right not in vocab or left + right not in vocab:
            fail(f"merge {m!r} uses a piece outside the vocabulary")
            break
    types = {t.tensor_type for t in reader.tensors}
    if type_name == "Q4_K_M" and types != {GGMLQuantizationType.F32, GGMLQuantizationType.Q4_K,
                                           GGMLQuantizationType.Q6_K}:
        fail(f"Q4_K_M file has types {sorted(t.name for t in types)}")
    for t in reader.tensors:
        values = dequantize(t.data, t.tensor_type).astype(np.float64)
        if values.size != int(np.prod(t.shape)):
            fail(f"{t.name}: {values.size} values for shape {list(t.shape)}")
        if not np.all(np.isfinite(values)):
            fail(f"{t.name} ({t.tensor_type.name}) has non-finite values")
            continue
        if t.name.endswith("norm.weight"):
            if abs(values.mean() - 1.0) > 0.02 or values.min() <= 0.5:
                fail(f"{t.name}: norm gains mean {values.mean():.3f}, min {values.min():.3f}")
        else:
            rms = float(np.sqrt(np.mean(values ** 2)))
            if not 0.015 <= rms <= 0.025 or abs(values.mean()) > 0.005:
                fail(f"{t.name} ({t.tensor_type.name}): rms {rms:.4f}, mean {values.mean():.4f}")


def check_bench_cli(cli, path: Path, failures: list):
    args = [cli, "bench", "-m", str(path), "-p", "32", "-n", "4", "-d", "8", "-r", "2", "--backend", "cpu", "-t", "2"]
    out = subprocess.run(args + ["--json"], check=True, capture_output=True, text=True).stdout
    result = json.loads(out)
    tests = {t["test"]: t for t in result["tests"]}
    if set(tests) != {"pp32 @ d8", "tg4 @ d8"}:
        failures.append(f"bench --json: tests {sorted(tests)}")
    for t in tests.values():
        if not (t["tokens_per_sec"] > 0 and len(t["samples"]) == 2 and t["percent_of_ceiling"] is None):
            failures.append(f"bench --json: bad row {t}")
    if result["device"] is not None or result["model"]["backend"] != "cpu":
        failures.append("bench --json: a CPU run must report no device ceiling")
    table = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    rows = [line for line in table.splitlines() if line.startswith("| tiny")]
    if len(rows) != 2 or "pp32 @ d8" not in rows[0] or "tg4 @ d8" not in rows[1]:
        failures.append(f"bench table rows: {rows}")


def main():
    cli = sys.argv[1]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for type_name in TYPES:
            path = Path(tmp) / f"tiny-{type_name}.gguf"
            subprocess.run([cli, "make-bench-model", "--shape", "tiny", "--type", type_name, "-o", str(path)],
                           check=True, capture_output=True)
            check_file(path, type_name, failures)
        check_bench_cli(cli, Path(tmp) / "tiny-Q4_K_M.gguf", failures)
        bad = subprocess.run([cli, "make-bench-model", "--shape", "tiny", "--type", "NOPE", "-o",
                              str(Path(tmp) / "x.gguf")], capture_output=True, text=True)
        if bad.returncode == 0 or "NOPE" not in bad.stderr:
            failures.append(f"an unknown type must fail naming it (rc {bad.returncode}: {bad.stderr.strip()})")
    for f in failures:
        print("FAIL", f)
    print(f"{len(TYPES)} types checked, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
