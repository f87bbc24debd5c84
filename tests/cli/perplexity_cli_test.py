#!/usr/bin/env python3
"""`llcuda perplexity` on the Austen passage of the engine golden files (tests/golden/engine):
  - the perplexity equals the engine's (engine_reference: score() through the public API) and
    llama.cpp's (the golden value, within the engine oracle test's 0.5 %);
  - --save-logprobs writes rows that numpy reads back: normalized log-probabilities whose
    perplexity is the printed one;
  - --kl-base: a model against itself gives KL 0 and 100 % agreement; against a re-quantized copy
    (`llcuda quantize`), KL and agreement equal numpy's computation from the two saved files;
  - bad input (short text, small chunks, another vocabulary, a foreign or truncated base) is a
    clear error.
Usage: perplexity_cli_test.py PATH/TO/llcuda REPO_ROOT PATH/TO/engine_reference"""
import json
import math
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from checks import Checks  # noqa: E402
from cli_support import GEMMA3, SMOLLM2, describe, require_models, run  # noqa: E402

llcuda, root, reference = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
check = Checks()
require_models(check, SMOLLM2, GEMMA3)
CTX = 256  # the golden chunk: 256 tokens, positions [128, 255) scored, as llama.cpp's perplexity tool
RESULT = re.compile(r"perplexity: ([0-9.]+) over (\d+) scored tokens \((\d+) chunks of (\d+)\)")
KL = re.compile(r"KL-divergence from base: ([0-9.]+)\nsame top token: ([0-9.]+) %")


def perplexity(model, text_file, *flags):
    """Runs `llcuda perplexity`; returns (perplexity, n_scored, stdout) or (None, None, stdout)."""
    out = run(llcuda, ["perplexity", "-m", model, "-f", text_file, "--ctx", CTX, *flags])
    stdout = out.stdout.decode()
    m = RESULT.search(stdout)
    check(out.returncode == 0 and m is not None, f"perplexity {flags}: {describe(out)} {stdout!r}")
    return (float(m.group(1)), int(m.group(2)), stdout) if m else (None, None, stdout)


def read_logprobs(path):
    """The --save-logprobs format (llcuda/perplexity.h): magic, n_vocab u32, n_rows u32, f16 rows."""
    data = Path(path).read_bytes()
    check(data[:8] == b"LLCLPRB1", f"{path}: magic {data[:8]!r}")
    n_vocab, n_rows = np.frombuffer(data[8:16], dtype="<u4")
    check(len(data) == 16 + 2 * int(n_vocab) * int(n_rows), f"{path}: {len(data)} bytes for {n_rows} x {n_vocab}")
    return np.frombuffer(data[16:], dtype="<f2").reshape(int(n_rows), int(n_vocab)).astype(np.float64)


with tempfile.TemporaryDirectory() as d:
    tmp = Path(d)
    texts = {}
    for name, model in (("smollm2", SMOLLM2), ("gemma3", GEMMA3)):
        golden = json.loads((root / "tests" / "golden" / "engine" / f"{name}.json").read_text())
        tokens = golden["tokens"][:CTX]
        has_bos = golden["prompt_tokens"][0] == tokens[0]  # both start with BOS when the model adds one
        body = tokens[1:] if has_bos else tokens
        # The passage as text: detokenized, and checked to tokenize back to the same ids.
        out = run(llcuda, ["detokenize", "-m", model] + body)
        text_file = tmp / f"{name}.txt"
        text_file.write_bytes(out.stdout[:-1])  # detokenize ends its output with a newline
        texts[name] = text_file
        again = run(llcuda, ["tokenize", "-m", model, "-f", text_file, "--ids", "--no-bos"])
        check(again.returncode == 0 and [int(t) for t in again.stdout.split()] == body,
              f"{name}: the passage does not tokenize back to the golden ids")

        ppl, n_scored, _ = perplexity(model, text_file, "--chunks", "1")
        ref = run(reference, ["next_logprobs", model, CTX] + tokens)
        logprobs = json.loads(ref.stdout)["logprobs"] if ref.returncode == 0 else []
        check(len(logprobs) == CTX - 1, f"{name}: engine_reference: {describe(ref)}")
        scored = logprobs[CTX // 2:]
        engine_ppl = math.exp(-sum(scored) / len(scored)) if scored else float("nan")
        check(n_scored == len(scored), f"{name}: {n_scored} scored tokens, the chunk has {len(scored)}")
        check(ppl is not None and abs(ppl - engine_ppl) <= 1e-4, f"{name}: llcuda {ppl} != engine {engine_ppl:.6f}")
        check(ppl is not None and abs(ppl / golden["perplexity"] - 1) < 0.005,
              f"{name}: llcuda {ppl} vs llama.cpp {golden['perplexity']:.4f}")
        print(f"{name}: perplexity {ppl} (engine {engine_ppl:.5f}, llama.cpp {golden['perplexity']:.4f})")

    # --save-logprobs: the rows behind the printed value.
    base_file = tmp / "smollm2.lp"
    ppl, n_scored, _ = perplexity(SMOLLM2, texts["smollm2"], "--save-logprobs", base_file)
    base = read_logprobs(base_file)
    body = [int(t) for t in run(llcuda, ["tokenize", "-m", SMOLLM2, "-f", texts["smollm2"], "--ids", "--no-bos"]).stdout.split()]
    targets = body[CTX // 2 + 1:CTX]
    check(base.shape[0] == n_scored == len(targets), f"saved {base.shape[0]} rows for {n_scored} scored tokens")
    sums = np.log(np.exp(base).sum(axis=1))
    check(np.abs(sums).max() < 0.01, f"saved rows are not normalized: log sum exp up to {np.abs(sums).max()}")
    from_file = math.exp(-np.mean(base[np.arange(len(targets)), targets]))
    check(abs(from_file / ppl - 1) < 1e-3, f"perplexity from the saved rows {from_file} != printed {ppl}")

    # --kl-base against itself: exactly 0, same top token everywhere.
    _, _, stdout = perplexity(SMOLLM2, texts["smollm2"], "--kl-base", base_file)
    m = KL.search(stdout)
    check(m is not None and float(m.group(1)) == 0.0 and m.group(2) == "100.00", f"self KL: {stdout!r}")

    # --kl-base against a re-quantized copy: positive, and as numpy computes it from both files.
    requantized = tmp / "smollm2-q4_0.gguf"
    out = run(llcuda, ["quantize", SMOLLM2, requantized, "Q4_0", "--allow-requantize"])
    check(out.returncode == 0, f"quantize: {describe(out)}")
    other_file = tmp / "q4_0.lp"
    _, _, stdout = perplexity(requantized, texts["smollm2"], "--kl-base", base_file, "--save-logprobs", other_file)
    m = KL.search(stdout)
    other = read_logprobs(other_file)
    kl_numpy = float(np.mean(np.sum(np.exp(base) * (base - other), axis=1)))
    same_top = 100.0 * float(np.mean(np.argmax(base, axis=1) == np.argmax(other, axis=1)))
    check(m is not None and float(m.group(1)) > 0 and abs(float(m.group(1)) - kl_numpy) <= 1e-6 + 1e-4 * kl_numpy,
          f"KL to Q4_0: llcuda {m and m.group(1)}, numpy {kl_numpy:.6f}")
    check(m is not None and abs(float(m.group(2)) - same_top) < 0.006, f"same top: llcuda {m and m.group(2)}, numpy {same_top:.2f}")
    print(f"KL(Q4_1 || Q4_0 re-quantized) = {kl_numpy:.6f}, same top token {same_top:.2f} %")

    # Bad input: each a non-zero exit with the problem named.
    short = tmp / "short.txt"
    short.write_text("Too short.")
    truncated = tmp / "truncated.lp"
    truncated.write_bytes(base_file.read_bytes()[:-10])
    doubled = tmp / "doubled.txt"  # two chunks: more positions than the saved base holds
    doubled.write_bytes(texts["smollm2"].read_bytes() * 2)
    for flags, needle in (([SMOLLM2, "-f", short], b"fewer than one chunk"),
                          ([SMOLLM2, "-f", texts["smollm2"], "--ctx", "2"], b"at least 4"),
                          ([GEMMA3, "-f", texts["gemma3"], "--ctx", CTX, "--kl-base", base_file], b"vocabulary"),
                          ([SMOLLM2, "-f", texts["smollm2"], "--ctx", CTX, "--kl-base", texts["smollm2"]],
                           b"not a log-probability file"),
                          ([SMOLLM2, "-f", texts["smollm2"], "--ctx", CTX, "--kl-base", truncated], b"bytes"),
                          ([SMOLLM2, "-f", doubled, "--ctx", CTX, "--kl-base", base_file], b"fewer than the 254"),
                          ([SMOLLM2, "-f", tmp / "missing.txt"], b"missing.txt"),
                          ([SMOLLM2, "-f", texts["smollm2"], "--ctx", "x"], b"--ctx")):
        out = run(llcuda, ["perplexity", "-m"] + flags)
        check(out.returncode != 0 and needle in out.stderr, f"perplexity {flags[1:]}: want {needle!r}, {describe(out)}")
check.finish()
