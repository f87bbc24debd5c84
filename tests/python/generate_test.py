"""llcuda.InferenceEngine generation on the real test models: greedy infer() equals the C++ engine
(engine_reference, public API) and `llcuda run`, and on the CPU is a prefix of llama.cpp's greedy
text (tests/golden/engine); infer_stream() calls back piece by piece while generating and the pieces
concatenate to infer()'s text; stream() likewise, and leaving it early stops the generation;
batch_infer() equals one infer() per prompt; stop strings, seeds and max_tokens reach the engine;
get_metrics() has the keys existing users read, its percentiles equal numpy.percentile of the
results' latencies. Run by pytest (conftest.py)."""
import subprocess
import time
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import GEMMA3, SMOLLM2, describe, golden, require_model

import llcuda

N = 32


@pytest.fixture(scope="module", params=[("smollm2", SMOLLM2), ("gemma3", GEMMA3)], ids=lambda p: p[0])
def greedy(request):
    """The model loaded and its greedy infer() of the golden prompt: name, model, engine, prompt, result."""
    name, model = request.param
    model = require_model(model)
    prompt = golden(name)["prompt"]
    with llcuda.InferenceEngine() as engine:
        loaded = engine.load_model(str(model))
        result = engine.infer(prompt, max_tokens=N, temperature=0)
        yield SimpleNamespace(name=name, model=model, engine=engine, prompt=prompt, result=result, loaded=loaded)


def test_load_and_infer(greedy):
    g = greedy
    assert g.loaded is True and g.engine.is_loaded, f"{g.name}: load_model"
    assert g.result.success and g.result.tokens_generated > 0, f"{g.name}: infer failed: {g.result!r}"


def test_infer_equals_cpp_engine(greedy, reference):
    g = greedy
    want = reference("greedy", g.model, N, g.prompt)
    assert g.result.text == want["text"], f"{g.name}: infer {g.result.text!r} != C++ engine {want}"


def test_infer_equals_llcuda_run(greedy, llcuda_program):
    g = greedy
    cli = subprocess.run([llcuda_program, "run", "-m", str(g.model), "-p", g.prompt, "--greedy", "-n", str(N), "-q"],
                         capture_output=True, timeout=900)
    assert cli.returncode == 0 and cli.stdout.decode() == g.prompt + g.result.text + "\n", \
        f"{g.name}: llcuda run {describe(cli)} {cli.stdout[:200]!r} != {g.prompt + g.result.text!r}"


def test_cpu_text_is_prefix_of_llama_cpp(greedy):
    g = greedy
    if g.engine.model_info().backend != "cpu":
        pytest.skip("llama.cpp computes in F32 as the CPU engine does: exact there only")
    want = golden(g.name)["greedy_text"]
    assert want.startswith(g.result.text) and g.result.text, \
        f"{g.name}: {g.result.text!r} is not a prefix of llama.cpp's {want!r}"


def test_token_counts(greedy):
    r = greedy.result
    assert len(r.token_ids) == r.tokens_generated and r.prompt_tokens == len(golden(greedy.name)["prompt_tokens"]), \
        f"{greedy.name}: token counts {len(r.token_ids)} {r.tokens_generated} {r.prompt_tokens}"


def test_infer_stream_piece_by_piece(greedy):
    """One call per piece, while generating (the first piece comes well before the end)."""
    g = greedy
    arrivals = []
    streamed = g.engine.infer_stream(g.prompt, lambda piece: arrivals.append((time.perf_counter(), piece)),
                                     max_tokens=N, temperature=0, ignore_eos=True)
    done = time.perf_counter()
    pieces = [p for _, p in arrivals]
    assert streamed.success and "".join(pieces) == streamed.text, f"{g.name}: pieces {pieces} != {streamed.text!r}"
    assert streamed.text.startswith(g.result.text), f"{g.name}: streamed {streamed.text!r} vs infer {g.result.text!r}"
    assert len(pieces) >= N // 2, f"{g.name}: {len(pieces)} pieces for {N} tokens: not piece by piece"
    # Piece by piece: the first piece arrives long before the call returns.
    lead_ms = (done - arrivals[0][0]) * 1000 if arrivals else 0
    assert lead_ms > 0.3 * streamed.latency_ms, \
        f"{g.name}: the first piece came {lead_ms:.1f} ms before the end of a {streamed.latency_ms:.1f} ms call"


def test_callback_false_cancels(greedy):
    """A callback returning False stops: finish 'cancelled' after 3 pieces."""
    seen = []
    stopped = greedy.engine.infer_stream(greedy.prompt, lambda p: seen.append(p) or len(seen) < 3, max_tokens=N,
                                         temperature=0, ignore_eos=True)
    assert stopped.finish_reason == "cancelled" and len(seen) == 3 and stopped.tokens_generated < N, \
        f"{greedy.name}: callback False: {stopped.finish_reason} after {len(seen)} pieces, {stopped.tokens_generated} tokens"


def test_stream_generator(greedy):
    """stream(): the generator form; breaking out stops the generation (the engine serves again at once)."""
    g = greedy
    gen_pieces = list(g.engine.stream(g.prompt, max_tokens=N, temperature=0))
    assert "".join(gen_pieces) == g.result.text, f"{g.name}: stream() {''.join(gen_pieces)!r} != {g.result.text!r}"
    for i, _ in enumerate(g.engine.stream(g.prompt, max_tokens=4096, temperature=0, ignore_eos=True)):
        if i == 2:
            break
    again = g.engine.infer(g.prompt, max_tokens=N, temperature=0)
    assert again.text == g.result.text, f"{g.name}: after an abandoned stream: {again.text!r}"


def test_batch_infer_equals_single_infers(greedy):
    """One batch, each result as its own greedy infer (checked against the C++ engine above)."""
    g = greedy
    prompts = [g.prompt, "Once upon a time", "1, 2, 3,"]
    batch = g.engine.batch_infer(prompts, max_tokens=16, temperature=0)
    assert len(batch) == 3 and all(b.success for b in batch), f"{g.name}: batch_infer {batch}"
    wrong = []
    for p, b in zip(prompts, batch):
        single = g.engine.infer(p, max_tokens=16, temperature=0).text
        if b.text != single:
            wrong.append(f"{g.name}: batch {p!r}: {b.text!r} != single {single!r}")
    assert not wrong, wrong


# Sampling arguments reach the engine (SmolLM2).
@pytest.fixture(scope="module")
def smol(smollm2):
    engine = llcuda.InferenceEngine()
    engine.load_model(smollm2)
    yield engine
    engine.unload_model()


PROMPT = golden("smollm2")["prompt"]


def test_stop_sequences(smol):
    full = smol.infer(PROMPT, max_tokens=N, temperature=0).text
    cut = smol.infer(PROMPT, max_tokens=N, temperature=0, stop_sequences=["."])
    assert cut.finish_reason == "stop_string" and cut.text == full[:full.index(".")], f"stop_sequences: {cut.text!r}"


def test_max_tokens(smol):
    five = smol.infer(PROMPT, max_tokens=5, temperature=0, ignore_eos=True)
    assert five.tokens_generated == 5 and five.finish_reason == "length", f"max_tokens=5: {five!r}"


def test_seed(smol):
    a, b = (smol.infer(PROMPT, max_tokens=24, temperature=1.0, seed=1234).text for _ in range(2))
    assert a == b and len(a) > 0, f"seed 1234 twice: {a!r} {b!r}"


def test_logprobs(smol):
    lp = smol.infer(PROMPT, max_tokens=4, temperature=0, logprobs=3)
    assert len(lp.logprobs) == 4 and all(len(t.top) == 3 and t.top[0][0] == t.token for t in lp.logprobs), \
        f"logprobs=3: {[(t.token, t.top) for t in lp.logprobs]}"


def test_metrics_after_reset(smol):
    smol.reset_metrics()
    empty = smol.get_metrics()
    assert empty == {"latency": {"mean_ms": 0, "p50_ms": 0, "p95_ms": 0, "p99_ms": 0, "min_ms": 0, "max_ms": 0,
                                 "sample_count": 0},
                     "throughput": {"total_tokens": 0, "total_requests": 0, "tokens_per_sec": 0,
                                    "requests_per_sec": 0}}, f"metrics after reset: {empty}"


@pytest.fixture(scope="module")
def metrics(smol):
    """get_metrics() after six calls from a reset, their results and wall time."""
    smol.reset_metrics()
    t0 = time.perf_counter()
    results = [smol.infer(PROMPT, max_tokens=n, temperature=0, ignore_eos=True) for n in (1, 2, 4, 8, 16, 3)]
    wall = time.perf_counter() - t0
    return SimpleNamespace(m=smol.get_metrics(), results=results, wall=wall,
                           lat=np.array([r.latency_ms for r in results]))


def test_metrics_keys(metrics):
    m = metrics.m
    assert (set(m) == {"latency", "throughput"} and
            set(m["latency"]) == {"mean_ms", "p50_ms", "p95_ms", "p99_ms", "min_ms", "max_ms", "sample_count"} and
            set(m["throughput"]) == {"total_tokens", "total_requests", "tokens_per_sec", "requests_per_sec"}), f"keys: {m}"


def test_metrics_counts(metrics):
    m = metrics.m
    assert m["latency"]["sample_count"] == 6 and m["throughput"]["total_requests"] == 6, f"counts: {m}"
    assert m["throughput"]["total_tokens"] == sum(r.tokens_generated for r in metrics.results) == 34, f"tokens: {m}"


def test_metrics_latencies_equal_numpy(metrics):
    m, lat = metrics.m, metrics.lat
    for key, q in (("p50_ms", 50), ("p95_ms", 95), ("p99_ms", 99)):
        assert abs(m["latency"][key] - np.percentile(lat, q)) < 1e-9, f"{key} {m['latency'][key]} != numpy {np.percentile(lat, q)}"
    assert (abs(m["latency"]["mean_ms"] - lat.mean()) < 1e-9 and m["latency"]["min_ms"] == lat.min()
            and m["latency"]["max_ms"] == lat.max()), f"mean/min/max: {m['latency']} vs {lat}"


def test_metrics_rates(metrics):
    """Rates over the wall time of the six calls (their span is at least the sum of latencies, at most `wall`)."""
    m, lat, wall = metrics.m, metrics.lat, metrics.wall
    assert 34 / wall <= m["throughput"]["tokens_per_sec"] <= 34 / (lat.sum() / 1000) * 1.001, \
        f"tokens_per_sec {m['throughput']['tokens_per_sec']} not within [{34 / wall}, {34 / (lat.sum() / 1000)}]"


def test_unload(smol):
    smol.unload_model()
    assert not smol.is_loaded, "unload_model: still loaded"
