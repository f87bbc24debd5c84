#!/usr/bin/env python3
"""Serving benchmark: N concurrent clients stream completions from an OpenAI-compatible server
(`llcuda serve`, or any other) and the script reports generated tok/s, requests/s, time to first
token and inter-token latency (p50/p99). Standard library only.

  python3 bench/serve_bench.py --url http://127.0.0.1:8080 --clients 1,16,64 --prompt-tokens 512 \
      --output-tokens 128 [--requests-per-client 2] [--model NAME] [--api-key KEY]

Prompts are random token ids (sent as `prompt: [ids]`, so every server sees the same length),
drawn from one generator for the whole run (warm-up included), so that no two requests share a
prompt and the prefix cache does not help; generation ignores
end-of-sequence (`ignore_eos`) and stops at exactly --output-tokens, greedy.

Before the levels, --warmup requests (default 1) run unmeasured, as `llcuda bench` warms up before
its runs (first-use costs: CUDA graph captures, workspace growth). Two throughput columns:
"out tok/s" is every generated token over the level's wall time (prefill included); "decode tok/s"
is the number of clients times the median stream's decode rate ((tokens - 1) / the time from its
first to its last token), the figure `llama-batched-bench` calls generation speed."""
import argparse
import http.client
import json
import random
import statistics
import threading
import time
import urllib.parse


def percentile(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def one_request(url, headers, body):
    """Streams one completion; returns (ttft seconds, [inter-token gaps], tokens received)."""
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=3600)
    start = time.perf_counter()
    conn.request("POST", "/v1/completions", json.dumps(body), headers)
    r = conn.getresponse()
    if r.status != 200:
        raise RuntimeError(f"HTTP {r.status}: {r.read()[:300]!r}")
    ttft, gaps, last, n_tokens, usage_tokens = None, [], None, 0, None
    for raw in r:
        line = raw.strip()
        if not line.startswith(b"data: ") or line == b"data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        if chunk.get("error"):  # the server failed the request after the 200 header went out
            raise RuntimeError(f"error in the stream: {json.dumps(chunk['error'])[:300]}")
        if chunk.get("usage"):
            usage_tokens = chunk["usage"]["completion_tokens"]
        if not chunk.get("choices") or not chunk["choices"][0].get("text"):
            continue
        now = time.perf_counter()
        if ttft is None:
            ttft = now - start
        else:
            gaps.append(now - last)
        last = now
        n_tokens += 1
    conn.close()
    n_out = usage_tokens if usage_tokens is not None else n_tokens
    if n_out == 0:
        raise RuntimeError("the stream ended without a token")
    return ttft, gaps, n_out


def run_level(args, n_clients, vocab, rng, requests_per_client=None):
    """rng: the run's one generator of prompt ids (shared by the warm-up and every level, so no two
    requests of a run send the same prompt and the prefix cache never helps)."""
    headers = {"Content-Type": "application/json"}
    if args.api_key:
        headers["Authorization"] = f"Bearer {args.api_key}"
    results, errors = [], []
    lock = threading.Lock()

    n_requests = args.requests_per_client if requests_per_client is None else requests_per_client

    def client(i):
        for _ in range(n_requests):
            with lock:  # one generator for all threads
                prompt = [rng.randrange(100, vocab) for _ in range(args.prompt_tokens)]
            body = {"prompt": prompt,
                    "max_tokens": args.output_tokens, "temperature": 0, "ignore_eos": True, "stream": True,
                    "stream_options": {"include_usage": True}}
            if args.model:
                body["model"] = args.model
            try:
                r = one_request(args.url, headers, body)
                with lock:
                    results.append(r)
            except Exception as e:  # noqa: BLE001
                with lock:
                    errors.append(str(e))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n_clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    # Output tokens: the usage of each stream (else one per text chunk). Inter-token gaps are between
    # text chunks, which is per token except where a piece is held back (partial UTF-8).
    total_out = sum(r[2] for r in results)
    ttfts = [r[0] for r in results if r[0] is not None]
    gaps = [g for r in results for g in r[1]]
    stream_rates = [len(r[1]) / sum(r[1]) for r in results if r[1] and sum(r[1]) > 0]
    return {"clients": n_clients, "requests": len(results), "errors": len(errors), "wall_s": wall,
            "output_tok_s": total_out / wall, "requests_s": len(results) / wall,
            "decode_tok_s": n_clients * statistics.median(stream_rates) if stream_rates else float("nan"),
            "ttft_p50_ms": 1000 * percentile(ttfts, 50), "ttft_p99_ms": 1000 * percentile(ttfts, 99),
            "itl_p50_ms": 1000 * percentile(gaps, 50), "itl_p99_ms": 1000 * percentile(gaps, 99),
            "first_error": errors[0] if errors else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--clients", default="1,16,64")
    ap.add_argument("--prompt-tokens", type=int, default=512)
    ap.add_argument("--output-tokens", type=int, default=128)
    ap.add_argument("--requests-per-client", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1, help="unmeasured requests sent before the levels")
    ap.add_argument("--model", default="")
    ap.add_argument("--api-key", default="")
    ap.add_argument("--vocab", type=int, default=0, help="token ids are drawn below this (0: ask /v1/models)")
    ap.add_argument("--json", action="store_true", help="one JSON object per level instead of a table")
    ap.add_argument("--seed", type=int, default=0, help="seed of the run's prompt ids")
    args = ap.parse_args()
    vocab = args.vocab
    if not vocab:
        u = urllib.parse.urlparse(args.url)
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=60)
        conn.request("GET", "/v1/models", headers={"Authorization": f"Bearer {args.api_key}"} if args.api_key else {})
        vocab = json.loads(conn.getresponse().read())["data"][0].get("meta", {}).get("n_vocab", 32000)
    rng = random.Random(args.seed)
    if args.warmup > 0:
        w = run_level(args, 1, vocab, rng, requests_per_client=args.warmup)
        if w["errors"]:
            print("warm-up failed:", w["first_error"])
    print(f"prompt {args.prompt_tokens} tokens, output {args.output_tokens} tokens, "
          f"{args.requests_per_client} requests per client, {args.warmup} warm-up requests")
    if not args.json:
        print(f"{'clients':>7} {'out tok/s':>10} {'decode tok/s':>12} {'req/s':>7} {'TTFT p50':>9} {'TTFT p99':>9} "
              f"{'ITL p50':>8} {'ITL p99':>8} errors")
    for n in [int(x) for x in args.clients.split(",")]:
        r = run_level(args, n, vocab, rng)
        if args.json:
            print(json.dumps(r))
        else:
            print(f"{n:>7} {r['output_tok_s']:>10.1f} {r['decode_tok_s']:>12.1f} {r['requests_s']:>7.2f} {r['ttft_p50_ms']:>7.0f}ms "
                  f"{r['ttft_p99_ms']:>7.0f}ms {r['itl_p50_ms']:>6.1f}ms {r['itl_p99_ms']:>6.1f}ms {r['errors']}")
            if r["first_error"]:
                print("   first error:", r["first_error"])


if __name__ == "__main__":
    main()
