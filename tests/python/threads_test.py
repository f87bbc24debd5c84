"""Several Python threads on one engine at once: every thread's greedy text equals the same call made
alone (infer, infer_stream, chat, batch_infer mixed); the GIL is released while the engine works
(the main thread keeps running Python during a generation); unload_model waits for running calls.
Run by pytest (conftest.py)."""
import threading
import time

import pytest

import llcuda

N = 16
PROMPTS = ["The capital of France is", "Once upon a time", "1, 2, 3, 4,", "The best way to learn is"]
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def engine(smollm2):
    e = llcuda.InferenceEngine()
    e.load_model(smollm2, n_parallel=4)
    yield e
    e.unload_model()


def test_concurrent_calls_equal_calls_alone(engine):
    """8 threads, two rounds each, four kinds of call, all at once."""
    alone = {p: engine.infer(p, max_tokens=N, temperature=0).text for p in PROMPTS}
    chat_alone = engine.chat(QUESTION, max_tokens=N, temperature=0)["choices"][0]["message"]["content"]
    results, errors = {}, []
    start = threading.Barrier(8)

    def worker(i):
        try:
            start.wait()
            for round_ in range(2):
                p = PROMPTS[i % 4]
                kind = (i + round_) % 4
                if kind == 0:
                    text = engine.infer(p, max_tokens=N, temperature=0).text
                elif kind == 1:
                    pieces = []
                    engine.infer_stream(p, pieces.append, max_tokens=N, temperature=0)
                    text = "".join(pieces)
                elif kind == 2:
                    text = engine.batch_infer([p, PROMPTS[(i + 1) % 4]], max_tokens=N, temperature=0)[0].text
                else:
                    p = "chat"
                    text = engine.chat(QUESTION, max_tokens=N, temperature=0)["choices"][0]["message"]["content"]
                results[(i, round_)] = (p, kind, text)
        except Exception as e:  # recorded and reported below
            errors.append(f"thread {i}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, f"concurrent calls failed: {errors}"
    assert len(results) == 16, f"{len(results)} of 16 calls finished"
    wrong = [f"thread {i} round {round_} kind {kind} on {p!r}: {text!r} != alone {chat_alone if p == 'chat' else alone[p]!r}"
             for (i, round_), (p, kind, text) in sorted(results.items())
             if text != (chat_alone if p == "chat" else alone[p])]
    assert not wrong, wrong


def test_gil_released_during_generation(engine):
    """The main thread counts while another thread generates."""
    counted = 0
    done = threading.Event()
    gen = threading.Thread(target=lambda: (engine.infer(PROMPTS[0], max_tokens=64, temperature=0, ignore_eos=True),
                                           done.set()))
    t0 = time.perf_counter()
    gen.start()
    while not done.is_set():
        counted += 1
    gen.join()
    elapsed = time.perf_counter() - t0
    assert counted > 10000 and elapsed > 0.2, f"main thread ran {counted} loop iterations in {elapsed:.2f} s of generation"


def test_unload_waits_for_running_call(engine):
    """unload_model waits for a running generation and the engine is then empty; the generation finished whole."""
    long_result = []
    gen = threading.Thread(target=lambda: long_result.append(engine.infer(PROMPTS[1], max_tokens=48, temperature=0,
                                                                          ignore_eos=True)))
    gen.start()
    time.sleep(0.2)
    engine.unload_model()
    gen.join()
    assert len(long_result) == 1 and long_result[0].success and long_result[0].tokens_generated == 48, \
        f"generation across unload_model: {long_result}"
    assert not engine.is_loaded, "unloaded after the running call"
