"""`llcuda serve` driven by the official openai Python client, unmodified (its response models
validate every field): chat and completions, streaming with usage, n > 1 with seeds, logprobs,
stop strings, prefix-cache usage, tools through the chat template, OpenAI errors with their
statuses, and concurrent requests giving exactly the greedy text each gives alone.

usage: server_api_test.py LLCUDA REPO_ROOT"""
import concurrent.futures
import sys
import threading
import time

import openai

from server_support import Server, wait_for_idle
from checks import Checks
from cli_support import SMOLLM2, require_models

KEY = "test-key-123"
PROMPTS = ["The capital of France is", "Once upon a time, in a small village,", "def fibonacci(n):",
           "The three primary colours are", "Water boils at", "My favourite book is",
           "In 1969, the first person to walk on the Moon", "A haiku about autumn:"]


def main():
    llcuda = sys.argv[1]
    check = Checks()
    require_models(check, SMOLLM2)
    t_start = time.monotonic()
    server = Server(llcuda, SMOLLM2, "-c", 512, "--max-seqs", 4, "-t", 2, "--api-key", KEY, "--max-queue", 64,
                    "--max-n", 4, "--backend", "cpu")
    auth = {"Authorization": f"Bearer {KEY}"}
    try:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{server.port}/v1", api_key=KEY, max_retries=0,
                               timeout=300)
        models = client.models.list().data
        check(len(models) == 1, f"one model listed, got {models}")
        model = models[0].id

        # Chat, whole and streamed: the same greedy text, the same token count.
        messages = [{"role": "user", "content": "Name three fruits."}]
        whole = client.chat.completions.create(model=model, messages=messages, max_tokens=16, temperature=0)
        text = whole.choices[0].message.content
        check(whole.choices[0].finish_reason in ("stop", "length") and text, f"chat reply: {whole}")
        check(whole.usage.completion_tokens <= 16 and whole.usage.prompt_tokens > 5, f"usage {whole.usage}")
        chunks = list(client.chat.completions.create(model=model, messages=messages, max_tokens=16, temperature=0,
                                                     stream=True, stream_options={"include_usage": True}))
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        check(streamed == text, f"streamed {streamed!r} != whole {text!r}")
        check(len([c for c in chunks if c.choices]) >= 3, "the reply came in several chunks")
        finals = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        check(finals == [whole.choices[0].finish_reason], f"one finish_reason chunk: {finals}")
        check(chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == whole.usage.completion_tokens,
              f"include_usage gives a last chunk with usage: {chunks[-1]}")
        # The repeated prompt found its blocks in the prefix cache.
        check(chunks[-1].usage.prompt_tokens_details.cached_tokens > 0, f"cached tokens: {chunks[-1].usage}")

        # Completions: n choices with a seed are reproducible and differ from each other.
        def sample(seed):
            r = client.completions.create(model=model, prompt="Once upon a time", max_tokens=12, temperature=1.0,
                                          n=3, seed=seed)
            return [c.text for c in sorted(r.choices, key=lambda c: c.index)]
        a, b = sample(7), sample(7)
        check(len(a) == 3 and a == b, f"same seed, same choices: {a} vs {b}")
        check(len(set(a)) > 1, f"the choices of one request differ: {a}")

        # Logprobs: completions' tokens spell the text; chat's top alternatives are sorted and the greedy
        # choice is the most likely.
        r = client.completions.create(model=model, prompt="The capital of France is", max_tokens=6, temperature=0,
                                      logprobs=2)
        lp = r.choices[0].logprobs
        check("".join(lp.tokens) == r.choices[0].text, f"logprob tokens {lp.tokens} spell {r.choices[0].text!r}")
        check(all(len(t) == 2 for t in lp.top_logprobs), "two alternatives per token")
        r = client.chat.completions.create(model=model, messages=messages, max_tokens=5, temperature=0, logprobs=True,
                                           top_logprobs=3)
        content = r.choices[0].logprobs.content
        check(len(content) == r.usage.completion_tokens, f"one logprob entry per token: {len(content)}")
        check(all(len(c.top_logprobs) == 3 and c.top_logprobs[0].logprob == c.logprob and c.logprob <= 0
                  for c in content), f"greedy tokens are their top alternative: {content}")

        # A prompt given as token ids gives what its text gives.
        status, _, body = server.request("POST", "/tokenize", {"content": "The capital of France is", "add_special": True},
                                         auth)
        import json
        ids = json.loads(body)["tokens"]
        by_ids = client.completions.create(model=model, prompt=ids, max_tokens=6, temperature=0)
        by_text = client.completions.create(model=model, prompt="The capital of France is", max_tokens=6, temperature=0)
        check(by_ids.choices[0].text == by_text.choices[0].text and by_ids.usage.prompt_tokens == len(ids),
              f"token-id prompt: {by_ids.choices[0].text!r} vs {by_text.choices[0].text!r}")

        # Stop strings end the text before them.
        r = client.completions.create(model=model, prompt="1, 2, 3, 4,", max_tokens=20, temperature=0, stop=[" 7"])
        check(r.choices[0].finish_reason == "stop" and " 7" not in r.choices[0].text and "6" in r.choices[0].text,
              f"stop string: {r.choices[0]}")

        # Tools reach the chat template (the prompt grows by their description).
        tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
                                                   "parameters": {"type": "object",
                                                                  "properties": {"city": {"type": "string"}}}}}]
        plain = client.chat.completions.create(model=model, messages=messages, max_tokens=1, temperature=0)
        with_tools = client.chat.completions.create(model=model, messages=messages, max_tokens=8, temperature=0,
                                                    tools=tools)
        check(with_tools.usage.prompt_tokens > plain.usage.prompt_tokens + 10,
              f"tools in the prompt: {with_tools.usage.prompt_tokens} vs {plain.usage.prompt_tokens}")
        check(with_tools.choices[0].finish_reason in ("stop", "length", "tool_calls"), f"{with_tools.choices[0]}")

        # Errors: the client raises the class of each status.
        def raises(cls, fn, what):
            try:
                fn()
                check(False, f"{what}: no error")
            except cls as e:
                body = e.body if isinstance(e.body, dict) else {}
                check("message" in body, f"{what}: OpenAI error shape, got {e.body!r}")
            except Exception as e:  # noqa: BLE001
                check(False, f"{what}: {type(e).__name__} {e}")
        bad_key = openai.OpenAI(base_url=client.base_url, api_key="wrong", max_retries=0)
        raises(openai.AuthenticationError, lambda: bad_key.models.list(), "wrong key")
        raises(openai.NotFoundError, lambda: client.chat.completions.create(model="gpt-4", messages=messages),
               "unknown model")
        raises(openai.BadRequestError, lambda: client.chat.completions.create(model=model, messages=messages,
                                                                              temperature=5), "temperature 5")
        raises(openai.BadRequestError, lambda: client.completions.create(model=model, prompt="hi", n=9), "n over the cap")
        raises(openai.BadRequestError, lambda: client.completions.create(model=model, prompt="word " * 600),
               "prompt longer than the context")
        raises(openai.BadRequestError, lambda: client.chat.completions.create(model=model, messages=[]),
               "no messages")
        status, _, _ = server.request("POST", "/v1/completions", b"x" * (5 << 20), {**auth, "Content-Type": "application/json"})
        check(status == 413, f"oversized body: {status}")
        status, _, _ = server.request("GET", "/health")
        check(status == 200, "health needs no key")
        status, _, _ = server.request("GET", "/metrics")
        check(status == 401, f"metrics need the key: {status}")

        # Tokenize / detokenize round trip.
        status, _, body = server.request("POST", "/tokenize", {"content": "Hello world"}, auth)
        import json
        ids = json.loads(body)["tokens"]
        status2, _, body2 = server.request("POST", "/detokenize", {"tokens": ids}, auth)
        check(status == 200 and status2 == 200 and json.loads(body2)["content"] == "Hello world",
              f"tokenize round trip: {body} {body2}")

        # Concurrency: greedy completions requested all at once equal each requested alone.
        def complete(p):
            return client.completions.create(model=model, prompt=p, max_tokens=10, temperature=0).choices[0].text
        alone = [complete(p) for p in PROMPTS]
        with concurrent.futures.ThreadPoolExecutor(len(PROMPTS)) as pool:
            together = list(pool.map(complete, PROMPTS))
        for p, x, y in zip(PROMPTS, alone, together):
            check(x == y, f"batched {y!r} != alone {x!r} for {p!r}")
        m = wait_for_idle(server, auth)
        check(m['llcuda_kv_blocks{state="used"}'] == 0, f"no blocks held when idle: {m}")
        check(m['llcuda_kv_blocks{state="cached"}'] > 0, "the prefix cache holds blocks")
        check(m["llcuda_prefix_cache_hits_total"] > 0, "prefix cache hits counted")
        check(m["llcuda_time_to_first_token_seconds_count"] > 0, "TTFT histogram filled")
        # Step time: the forward passes (with sampling) are part of the steps, and the steps ran
        # one after another in the server's lifetime.
        step_s, forward_s = m["llcuda_step_seconds_total"], m["llcuda_forward_seconds_total"]
        check(m["llcuda_forward_passes_total"] > 0 and 0 < forward_s <= step_s < time.monotonic() - t_start,
              f"step time counters: steps {step_s} s, forward passes {forward_s} s, "
              f"{time.monotonic() - t_start:.1f} s since the server started")
        check(server.alive(), "the server is still running")
    finally:
        code = server.stop()
    check(code == 0, f"SIGTERM stops the server cleanly (exit {code})")
    check.finish()


if __name__ == "__main__":
    main()
