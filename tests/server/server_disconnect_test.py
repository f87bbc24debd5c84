"""`llcuda serve` notices clients that leave while their requests wait in the queue: with both
sequences (--max-seqs 2) held by long generations, six more requests queue; four of them (streamed
and not, chat and completions) hang up, and /metrics shows the waiting count drop by four within
a poll or two, while the long ones still run and the two that stayed still wait. A non-streamed
request whose client leaves while it runs is cancelled too (counted under status 499, like the
queued ones that were not streamed); the two that stayed are then served in full, and afterwards
no KV block is held and nothing runs or waits.

usage: server_disconnect_test.py LLCUDA REPO_ROOT"""
import json
import socket
import sys
import threading
import time

from server_support import Server, wait_for_idle
from checks import Checks
from cli_support import SMOLLM2, require_models

WAITING = "llcuda_sequences_waiting"
RUNNING = "llcuda_sequences_running"
USED = 'llcuda_kv_blocks{state="used"}'


def send_request(port, path, body, close_after=False):
    """A raw HTTP request on its own connection; returns the socket, nothing read yet."""
    raw = json.dumps(body).encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n".encode()
              + (b"Connection: close\r\n" if close_after else b"")
              + f"Content-Length: {len(raw)}\r\n\r\n".encode() + raw)
    return s


def hang_up(s):
    s.shutdown(socket.SHUT_RDWR)  # also wakes a thread blocked reading it (which closes it then)


def read_all(s):
    """Everything until the server closes the connection (or it is shut down here); closes it."""
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    return data


def poll(server, until, timeout):
    """Polls /metrics every 20 ms until until(values) holds; (values, seconds taken, held)."""
    start = time.monotonic()
    while True:
        m = server.metrics()
        if until(m):
            return m, time.monotonic() - start, True
        if time.monotonic() - start > timeout:
            return m, time.monotonic() - start, False
        time.sleep(0.02)


def main():
    llcuda = sys.argv[1]
    check = Checks()
    require_models(check, SMOLLM2)
    server = Server(llcuda, SMOLLM2, "-c", 2048, "--max-seqs", 2, "-t", 2, "--backend", "cpu", "--max-queue", 32,
                    "--timeout", 30)
    try:
        port = server.port
        long_body = {"prompt": "Count: 1, 2, 3,", "max_tokens": 2000, "ignore_eos": True, "temperature": 0}
        short = {"max_tokens": 8, "ignore_eos": True, "temperature": 0}
        chat = {"messages": [{"role": "user", "content": "Hi"}], **short}
        completion = {"prompt": "Hello", **short}

        # Two long generations take both sequences: one streamed (read by a thread), one not.
        streamed_holder = send_request(port, "/v1/completions", {**long_body, "stream": True})
        plain_holder = send_request(port, "/v1/completions", long_body)
        holder_got = []
        reader = threading.Thread(target=lambda: holder_got.append(read_all(streamed_holder)))
        reader.start()
        m, _, ok = poll(server, lambda m: m[RUNNING] == 2, 30)
        check(ok, f"the two long generations run: {m}")

        # Six more queue behind them.
        leaving = [send_request(port, "/v1/chat/completions", {**chat, "stream": True}),
                   send_request(port, "/v1/completions", {**completion, "stream": True}),
                   send_request(port, "/v1/chat/completions", chat),
                   send_request(port, "/v1/completions", completion)]
        staying_stream = send_request(port, "/v1/completions", {**completion, "stream": True}, close_after=True)
        staying_plain = send_request(port, "/v1/chat/completions", chat, close_after=True)
        m, _, ok = poll(server, lambda m: m[WAITING] == 6, 30)
        check(ok and m[RUNNING] == 2, f"six requests wait: {m}")

        # Four hang up: the queue drops to two within a poll or two (50 ms each), not when the long ones end.
        for s in leaving:
            hang_up(s)
            s.close()
        m, took, ok = poll(server, lambda m: m[WAITING] == 2, 10)
        print(f"the queue dropped from 6 to {m[WAITING]:.0f} in {took:.2f} s")
        check(ok and took < 2.0, f"the four that left were dropped from the queue at once ({took:.2f} s): {m}")
        check(m[RUNNING] == 2 and not holder_got, f"while the long generations still run: {m}")

        # The long ones leave too (the non-streamed one while it runs); the two that stayed are served.
        hang_up(plain_holder)
        plain_holder.close()
        hang_up(streamed_holder)
        reader.join(timeout=30)
        check(not reader.is_alive(), "the streamed long generation's reader ended")
        got_stream = read_all(staying_stream).decode(errors="replace")
        got_plain = read_all(staying_plain).decode(errors="replace")
        check(got_stream.startswith("HTTP/1.1 200") and "data: [DONE]" in got_stream,
              f"the streamed request that stayed was served: {got_stream[-300:]}")
        body = got_plain.split("\r\n\r\n", 1)[-1]
        try:
            finish = json.loads(body)["choices"][0]["finish_reason"]
        except (ValueError, KeyError, IndexError):
            finish = None
        check(got_plain.startswith("HTTP/1.1 200") and finish == "length",
              f"the non-streamed request that stayed was served: {got_plain[-300:]}")

        m = wait_for_idle(server, timeout=20)
        check(m[USED] == 0 and m["llcuda_requests_in_flight"] == 0 and m[RUNNING] == 0 and m[WAITING] == 0,
              f"nothing is held, runs or waits afterwards: {m}")
        gone = sum(v for k, v in m.items() if k.startswith("llcuda_requests_total") and 'status="499"' in k)
        check(gone == 3, f"the three non-streamed requests whose clients left are counted as 499: {m}")
    finally:
        code = server.stop()
    check(code == 0, f"SIGTERM stops the server cleanly (exit {code})")
    check.finish()


if __name__ == "__main__":
    main()
