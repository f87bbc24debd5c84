#!/usr/bin/env python3
"""llcuda.InferenceEngine generation on the real test models: greedy infer() equals the C++ engine
(engine_reference, public API) and `llcuda run`, and on the CPU is a prefix of llama.cpp's greedy
text (tests/golden/engine); infer_stream() calls back piece by piece while generating and the pieces
concatenate to infer()'s text; stream() likewise, and leaving it early stops the generation;
batch_infer() equals one infer() per prompt; stop strings, seeds and max_tokens reach the engine;
get_metrics() has the keys existing users read, its percentiles equal numpy.percentile of the
results' latencies. Usage: generate_test.py REPO_ROOT LLCUDA ENGINE_REFERENCE"""
import subprocess
import time

import numpy as np
from py_support import GEMMA3, LLCUDA, SMOLLM2, Checks, describe, golden, reference, require_models

import llcuda

check = Checks()
require_models(check, SMOLLM2, GEMMA3)
N = 32

for name, model in (("smollm2", SMOLLM2), ("gemma3", GEMMA3)):
    prompt = golden(name)["prompt"]
    with llcuda.InferenceEngine() as engine:
        check(engine.load_model(str(model)) is True and engine.is_loaded, f"{name}: load_model")
        backend = engine.model_info().backend
        result = engine.infer(prompt, max_tokens=N, temperature=0)
        check(result.success and result.tokens_generated > 0, f"{name}: infer failed: {result!r}")
        want = reference("greedy", model, N, prompt)
        check(want is not None and result.text == want["text"], f"{name}: infer {result.text!r} != C++ engine {want}")
        cli = subprocess.run([LLCUDA, "run", "-m", str(model), "-p", prompt, "--greedy", "-n", str(N), "-q"],
                             capture_output=True, timeout=900)
        check(cli.returncode == 0 and cli.stdout.decode() == prompt + result.text + "\n",
              f"{name}: llcuda run {describe(cli)} {cli.stdout[:200]!r} != {prompt + result.text!r}")
        if backend == "cpu":  # llama.cpp computes in F32 as the CPU engine does: exact there
            check(golden(name)["greedy_text"].startswith(result.text) and result.text,
                  f"{name}: {result.text!r} is not a prefix of llama.cpp's {golden(name)['greedy_text']!r}")
        check(len(result.token_ids) == result.tokens_generated and result.prompt_tokens == len(golden(name)["prompt_tokens"]),
              f"{name}: token counts {len(result.token_ids)} {result.tokens_generated} {result.prompt_tokens}")

        # infer_stream: one call per piece, while generating (the first piece comes well before the end).
        arrivals = []
        streamed = engine.infer_stream(prompt, lambda piece: arrivals.append((time.perf_counter(), piece)),
                                       max_tokens=N, temperature=0, ignore_eos=True)
        done = time.perf_counter()
        pieces = [p for _, p in arrivals]
        check(streamed.success and "".join(pieces) == streamed.text, f"{name}: pieces {pieces} != {streamed.text!r}")
        check(streamed.text.startswith(result.text), f"{name}: streamed {streamed.text!r} vs infer {result.text!r}")
        check(len(pieces) >= N // 2, f"{name}: {len(pieces)} pieces for {N} tokens: not piece by piece")
        # Piece by piece: the first piece arrives long before the call returns.
        lead_ms = (done - arrivals[0][0]) * 1000 if arrivals else 0
        check(lead_ms > 0.3 * streamed.latency_ms,
              f"{name}: the first piece came {lead_ms:.1f} ms before the end of a "
              f"{streamed.latency_ms:.1f} ms call")

        # A callback returning False stops: finish 'cancelled' after 3 pieces.
        seen = []
        stopped = engine.infer_stream(prompt, lambda p: seen.append(p) or len(seen) < 3, max_tokens=N, temperature=0,
                                      ignore_eos=True)
        check(stopped.finish_reason == "cancelled" and len(seen) == 3 and stopped.tokens_generated < N,
              f"{name}: callback False: {stopped.finish_reason} after {len(seen)} pieces, {stopped.tokens_generated} tokens")

        # stream(): the generator form; breaking out stops the generation (the engine serves again at once).
        gen_pieces = list(engine.stream(prompt, max_tokens=N, temperature=0))
        check("".join(gen_pieces) == result.text, f"{name}: stream() {''.join(gen_pieces)!r} != {result.text!r}")
        for i, _ in enumerate(engine.stream(prompt, max_tokens=4096, temperature=0, ignore_eos=True)):
            if i == 2:
                break
        again = engine.infer(prompt, max_tokens=N, temperature=0)
        check(again.text == result.text, f"{name}: after an abandoned stream: {again.text!r}")

        # batch_infer: one batch, each result as its own greedy infer (checked against the C++ engine above).
        prompts = [prompt, "Once upon a time", "1, 2, 3,"]
        batch = engine.batch_infer(prompts, max_tokens=16, temperature=0)
        check(len(batch) == 3 and all(b.success for b in batch), f"{name}: batch_infer {batch}")
        for p, b in zip(prompts, batch):
            single = engine.infer(p, max_tokens=16, temperature=0).text
            check(b.text == single, f"{name}: batch {p!r}: {b.text!r} != single {single!r}")

# Sampling arguments reach the engine (SmolLM2).
engine = llcuda.InferenceEngine()
engine.load_model(SMOLLM2)
prompt = golden("smollm2")["prompt"]
full = engine.infer(prompt, max_tokens=N, temperature=0).text
cut = engine.infer(prompt, max_tokens=N, temperature=0, stop_sequences=["."])
check(cut.finish_reason == "stop_string" and cut.text == full[:full.index(".")], f"stop_sequences: {cut.text!r}")
five = engine.infer(prompt, max_tokens=5, temperature=0, ignore_eos=True)
check(five.tokens_generated == 5 and five.finish_reason == "length", f"max_tokens=5: {five!r}")
a, b = (engine.infer(prompt, max_tokens=24, temperature=1.0, seed=1234).text for _ in range(2))
check(a == b and len(a) > 0, f"seed 1234 twice: {a!r} {b!r}")
lp = engine.infer(prompt, max_tokens=4, temperature=0, logprobs=3)
check(len(lp.logprobs) == 4 and all(len(t.top) == 3 and t.top[0][0] == t.token for t in lp.logprobs),
      f"logprobs=3: {[(t.token, t.top) for t in lp.logprobs]}")

# get_metrics: the exact keys; numbers from the requests' own latencies (numpy as the oracle).
engine.reset_metrics()
empty = engine.get_metrics()
check(empty == {"latency": {"mean_ms": 0, "p50_ms": 0, "p95_ms": 0, "p99_ms": 0, "min_ms": 0, "max_ms": 0, "sample_count": 0},
                "throughput": {"total_tokens": 0, "total_requests": 0, "tokens_per_sec": 0, "requests_per_sec": 0}},
      f"metrics after reset: {empty}")
t0 = time.perf_counter()
results = [engine.infer(prompt, max_tokens=n, temperature=0, ignore_eos=True) for n in (1, 2, 4, 8, 16, 3)]
wall = time.perf_counter() - t0
m = engine.get_metrics()
lat = np.array([r.latency_ms for r in results])
check(set(m) == {"latency", "throughput"} and
      set(m["latency"]) == {"mean_ms", "p50_ms", "p95_ms", "p99_ms", "min_ms", "max_ms", "sample_count"} and
      set(m["throughput"]) == {"total_tokens", "total_requests", "tokens_per_sec", "requests_per_sec"}, f"keys: {m}")
check(m["latency"]["sample_count"] == 6 and m["throughput"]["total_requests"] == 6, f"counts: {m}")
check(m["throughput"]["total_tokens"] == sum(r.tokens_generated for r in results) == 34, f"tokens: {m}")
for key, q in (("p50_ms", 50), ("p95_ms", 95), ("p99_ms", 99)):
    check(abs(m["latency"][key] - np.percentile(lat, q)) < 1e-9, f"{key} {m['latency'][key]} != numpy {np.percentile(lat, q)}")
check(abs(m["latency"]["mean_ms"] - lat.mean()) < 1e-9 and m["latency"]["min_ms"] == lat.min()
      and m["latency"]["max_ms"] == lat.max(), f"mean/min/max: {m['latency']} vs {lat}")
# Rates over the wall time of the six calls (their span is at least the sum of latencies, at most `wall`).
check(34 / wall <= m["throughput"]["tokens_per_sec"] <= 34 / (lat.sum() / 1000) * 1.001,
      f"tokens_per_sec {m['throughput']['tokens_per_sec']} not within [{34 / wall}, {34 / (lat.sum() / 1000)}]")
engine.unload_model()
check(not engine.is_loaded, "unload_model: still loaded")
check.finish()
