"""`llcuda serve` under hostile and careless traffic: 1,000 malformed requests (bad JSON, wrong types,
huge or negative numbers, invalid UTF-8, oversized bodies, unknown routes) each get a 4xx in
OpenAI's error shape; half-sent requests are dropped after the read timeout; unknown fields are
ignored; a full queue answers 503 with Retry-After; 64 concurrent streams with random client
disconnects leave no KV block held (llcuda_kv_blocks{state="used"} is 0) and the server answering;
the listening socket takes a burst of clients (its accept queue holds min(4096, net.core.somaxconn)
connections, cpp-httplib's default being 5) and 512 connections opened at once are all answered.

usage: server_hostile_test.py LLCUDA REPO_ROOT"""
import json
import random
import socket
import sys
import threading
import time

from server_support import Server, listen_backlog, wait_for_idle
from checks import Checks
from cli_support import SMOLLM2, require_models

GOOD_CHAT = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1, "temperature": 0}
GOOD_COMPLETION = {"prompt": "Hi", "max_tokens": 1, "temperature": 0}
BAD_VALUES = {
    "temperature": [-1, 2.5, "hot", [], 1e308, None and 0],
    "top_p": [-0.1, 1.5, "x", {}],
    "top_k": [-5, 1.5, "3", 10**30],
    "min_p": [-1, 2, "0.1"],
    "max_tokens": [-1, 10**12, 1.5, "10", 2**64, True],
    "max_completion_tokens": [-3, 10**9, "5"],
    "n": [0, -1, 100, 2.5, "2"],
    "seed": ["abc", 1.5, [1]],
    "stop": [123, [1, 2], ["a", "b", "c", "d", "e"], [""], ""],
    "presence_penalty": [3, -3, "x"],
    "frequency_penalty": [5, "y"],
    "logprobs": ["yes", -1, 50],
    "top_logprobs": [-1, 21, "3"],
    "stream": ["true", 1],
    "stream_options": ["x", 5],
    "response_format": ["json", {"type": "xml"}, {"type": 5}],
    "tools": ["x", [1], [{"type": "function"}]],
    "tool_choice": ["sometimes", 5],
}


def bodies(rng):
    """Yields (path, body bytes, headers) of requests that must each be answered 4xx."""
    for path, good in (("/v1/chat/completions", GOOD_CHAT), ("/v1/completions", GOOD_COMPLETION)):
        for field, values in BAD_VALUES.items():
            if path == "/v1/completions" and field in ("max_completion_tokens", "top_logprobs", "tools", "tool_choice"):
                continue
            for v in values:
                if v is None:
                    continue
                yield path, json.dumps({**good, field: v}).encode(), {}
    chat = "/v1/chat/completions"
    for messages in ([], "hi", [1], [{"role": "alien", "content": "x"}], [{"content": "x"}],
                     [{"role": "user", "content": 5}], [{"role": "user", "content": [{"type": "image_url"}]}],
                     [{"role": "user", "content": "x" * 20000}]):
        yield chat, json.dumps({"messages": messages}).encode(), {}
    for prompt in ([], [-1], [10**9], [[1, 2], "x", 3], {"a": 1}, 5, "word " * 3000):
        yield "/v1/completions", json.dumps({"prompt": prompt}).encode(), {}
    # Broken JSON, invalid UTF-8, wrong top-level types, a wrong model, unknown routes.
    for raw in (b"", b"{", b"{\"messages\": [}", b"null", b"[]", b"42", b"\"text\"", b"{\"prompt\": \"\xff\xfe\"}",
                b"{\"messages\": [{\"role\": \"user\", \"content\": \"\xc3\x28\"}]}", b"\x00\x01\x02",
                b"{\"prompt\": \"a\", \"max_tokens\": 1e999}"):
        yield chat, raw, {}
        yield "/v1/completions", raw, {}
    yield chat, json.dumps({**GOOD_CHAT, "model": "no-such-model"}).encode(), {}
    yield "/v1/nothing", b"{}", {}
    yield "/tokenize", b"{\"content\": 5}", {}
    yield "/detokenize", b"{\"tokens\": [-1]}", {}
    yield "/detokenize", b"{\"tokens\": [99999999]}", {}
    yield "/v1/completions", b"{" + b" " * (5 << 20) + b"}", {}  # over --max-body: 413
    # Random mutations of valid bodies: truncated, bytes flipped, fields of random types.
    while True:
        path, good = rng.choice((("/v1/chat/completions", GOOD_CHAT), ("/v1/completions", GOOD_COMPLETION)))
        raw = json.dumps(good).encode()
        kind = rng.randrange(3)
        if kind == 0:
            raw = raw[:rng.randrange(1, len(raw) - 1)]
        elif kind == 1:
            b = bytearray(raw)
            b[rng.randrange(len(b))] = rng.choice(b"{}[]\",:\xff\x80")
            raw = bytes(b)
            try:
                json.loads(raw)
                continue  # still valid JSON: not certainly a bad request
            except ValueError:
                pass
        else:
            field = rng.choice(list(BAD_VALUES))
            if path == "/v1/completions" and field in ("max_completion_tokens", "top_logprobs", "tools", "tool_choice"):
                continue
            raw = json.dumps({**good, field: rng.choice([v for v in BAD_VALUES[field] if v is not None])}).encode()
        yield path, raw, {}


def stream_and_maybe_drop(port, rng, results, i):
    """One streaming chat request; the client hangs up after a random number of bytes (or reads it all)."""
    body = json.dumps({"messages": [{"role": "user", "content": f"Tell me a story number {i}."}],
                       "max_tokens": 24, "temperature": 0.7, "seed": i, "stream": True}).encode()
    drop_after = rng.choice([0, 1, 200, 600, None])
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=300)
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        got = b""
        while drop_after is None or len(got) < drop_after:
            data = s.recv(4096)
            if not data:
                break
            got += data
        s.close()
        results[i] = (drop_after, got)
    except OSError as e:
        results[i] = (drop_after, repr(e).encode())


def main():
    llcuda = sys.argv[1]
    check = Checks()
    require_models(check, SMOLLM2)
    rng = random.Random(1234)
    server = Server(llcuda, SMOLLM2, "-c", 256, "--max-seqs", 8, "-t", 2, "--max-queue", 64, "--max-n", 5,
                    "--timeout", 2, "--backend", "cpu", "--max-body", 1 << 20)
    try:
        # 1,000 bad requests, each a 4xx with an OpenAI error body.
        statuses = {}
        wrong = []
        gen = bodies(rng)
        for _ in range(1000):
            path, raw, headers = next(gen)
            status, _, data = server.request("POST", path, raw, {"Content-Type": "application/json", **headers})
            statuses[status] = statuses.get(status, 0) + 1
            try:
                shape = "message" in json.loads(data)["error"]
            except (ValueError, KeyError, TypeError):
                shape = False
            if not (400 <= status < 500 and shape):
                wrong.append((path, raw[:120], status, data[:200]))
        check(not wrong, f"{len(wrong)} bad requests not answered with a 4xx OpenAI error, e.g. {wrong[:3]}")
        check(statuses.get(413, 0) >= 1 and statuses.get(404, 0) >= 2, f"statuses seen: {statuses}")
        print("statuses of 1,000 bad requests:", statuses)
        # Unknown fields are ignored.
        status, _, data = server.request("POST", "/v1/completions", {**GOOD_COMPLETION, "frobnicate": [1, {"x": 2}]})
        check(status == 200, f"unknown field ignored: {status} {data[:200]}")

        # A burst of clients: the accept queue is as long as the kernel allows, and 512 connections
        # opened at once each get their answer (no reset).
        somaxconn = int(open("/proc/sys/net/core/somaxconn").read())
        backlogs = listen_backlog(server.port)
        check(backlogs == [min(4096, somaxconn)], f"accept queue of the listening socket: {backlogs}, "
                                                  f"want {min(4096, somaxconn)} (somaxconn {somaxconn})")
        burst = [None] * 512
        gate = threading.Barrier(len(burst))

        def connect_at_once(i):
            gate.wait()
            try:
                with socket.create_connection(("127.0.0.1", server.port), timeout=60) as s:
                    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    data = b""
                    while chunk := s.recv(4096):
                        data += chunk
                burst[i] = data.split(b"\r\n", 1)[0]
            except OSError as e:
                burst[i] = repr(e)
        threads = [threading.Thread(target=connect_at_once, args=(i,)) for i in range(len(burst))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        failed = [r for r in burst if not (isinstance(r, bytes) and b" 200 " in r)]
        check(not failed, f"{len(failed)} of 512 simultaneous connections not answered 200, e.g. {failed[:3]}")

        # Half-sent requests: the server drops them after its read timeout (2 s) and keeps answering.
        half = []
        for partial in (b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"prompt\":",
                        b"POST /v1/completions HTTP/1.1\r\nHo", b"GET /health HTTP/1.1\r\n"):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=15)
            s.sendall(partial)
            half.append(s)
        status, _, _ = server.request("GET", "/health")
        check(status == 200, "answers while half-sent requests are open")
        start = time.monotonic()
        for s in half:
            try:
                data = s.recv(4096)
                while data and not data.endswith(b"\r\n\r\n") and b"}" not in data:
                    data = s.recv(4096)
            except socket.timeout:
                data = None
            check(data is not None and time.monotonic() - start < 12,
                  f"a half-sent request was dropped after the read timeout ({time.monotonic() - start:.1f} s)")
            s.close()

        # A request for more generations than the queue holds (16 prompts x 5) is refused as too large;
        # 16 streams with n=4 fill the 64 places, and the next request gets 503 with Retry-After.
        status, headers, data = server.request("POST", "/v1/completions",
                                               {"prompt": ["a"] * 16, "n": 5, "max_tokens": 1, "stream": False})
        check(status == 400, f"more choices than the queue holds: {status} {data[:200]}")
        holders = []
        for _ in range(16):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=60)
            body = json.dumps({"prompt": "Count: 1, 2, 3,", "n": 4, "max_tokens": 200, "ignore_eos": True,
                               "temperature": 0, "stream": True}).encode()
            s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            holders.append(s)
        time.sleep(0.5)
        status, headers, data = server.request("POST", "/v1/completions", GOOD_COMPLETION)
        check(status == 503 and headers.get("retry-after") == "1", f"full queue: {status} {headers} {data[:200]}")
        for s in holders:
            s.close()  # disconnects: their sequences are cancelled
        m = wait_for_idle(server)
        check(m['llcuda_kv_blocks{state="used"}'] == 0 and m["llcuda_requests_in_flight"] == 0,
              f"disconnected streams released everything: {m}")

        # 64 concurrent streams, a random part of them dropped midway.
        results = [None] * 64
        threads = [threading.Thread(target=stream_and_maybe_drop, args=(server.port, random.Random(i), results, i))
                   for i in range(64)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        complete = [r for r in results if r[0] is None]
        check(all(b"data: [DONE]" in r[1] for r in complete),
              f"streams read to the end finish with [DONE] ({len(complete)} of them)")
        m = wait_for_idle(server)
        check(m['llcuda_kv_blocks{state="used"}'] == 0, f"no KV block held after the disconnects: {m}")
        check(m["llcuda_sequences_running"] == 0 and m["llcuda_sequences_waiting"] == 0, f"nothing left running: {m}")
        status, _, data = server.request("POST", "/v1/completions", GOOD_COMPLETION)
        check(status == 200 and server.alive(), f"the server still answers: {status}")
    finally:
        code = server.stop()
    check(code == 0, f"SIGTERM stops the server cleanly (exit {code})")
    check.finish()


if __name__ == "__main__":
    main()
