"""Starting `llcuda serve` for a test and talking to it without the openai package (raw requests,
metrics). The server prints "listening on http://HOST:PORT" on stderr once it accepts connections."""
import http.client
import json
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # checks.py
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cli"))  # cli_support.py


class Server:
    def __init__(self, llcuda, model, *args):
        self.proc = subprocess.Popen([str(llcuda), "serve", "-m", str(model), "--port", "0", *map(str, args)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.port = None
        self.startup_log = []  # stderr lines up to "listening"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.startup_log.append(line)
            m = re.search(r"listening on http://[^:]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.proc.kill()
            raise RuntimeError(f"llcuda serve did not start (exit {self.proc.poll()}): {''.join(self.startup_log)[-600:]}")

    def request(self, method, path, body=None, headers=None, timeout=120):
        """(status, headers dict, body bytes). body: bytes, str or a JSON-able object."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def metrics(self, headers=None):
        status, _, data = self.request("GET", "/metrics", headers=headers)
        assert status == 200, status
        values = {}
        for line in data.decode().splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        return values

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """SIGTERM; returns the exit code (the server stops cleanly)."""
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


def wait_for_idle(server, headers=None, timeout=60):
    """Polls /metrics until no request is in flight and no KV block is held; returns the last values."""
    deadline = time.monotonic() + timeout
    while True:
        m = server.metrics(headers)
        if (m.get('llcuda_kv_blocks{state="used"}') == 0 and m.get("llcuda_requests_in_flight") == 0) \
                or time.monotonic() > deadline:
            return m
        time.sleep(0.2)
