"""Starting `llcuda serve` for a test and talking to it without the openai package (raw requests,
metrics). The server prints "listening on http://HOST:PORT" on stderr once it accepts connections."""
import http.client
import json
import re
import socket
import struct
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


def listen_backlog(port):
    """The accept-queue limit of the TCP socket listening on 127.0.0.1:port, as `ss -ltn` shows it
    (Send-Q), asked of the kernel through a NETLINK_SOCK_DIAG dump of IPv4 TCP listeners."""
    sock_diag, sock_diag_by_family, nlm_request_dump, nlmsg_error, nlmsg_done, tcp_listen = 4, 20, 0x301, 2, 3, 10
    # inet_diag_req_v2: family, protocol, ext, pad, states; inet_diag_sockid: sport, dport (big-endian),
    # src[4], dst[4], interface, cookie[2] (INET_DIAG_NOCOOKIE)
    sockid = struct.pack("!HH", port, 0) + bytes(32) + struct.pack("=III", 0, 0xFFFFFFFF, 0xFFFFFFFF)
    req = struct.pack("=BBBBI", socket.AF_INET, socket.IPPROTO_TCP, 0, 0, 1 << tcp_listen) + sockid
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, sock_diag) as s:
        s.sendto(struct.pack("=IHHII", 16 + len(req), sock_diag_by_family, nlm_request_dump, 1, 0) + req, (0, 0))
        backlogs = []
        while True:
            data = s.recv(1 << 16)
            off = 0
            while off < len(data):
                length, kind = struct.unpack_from("=IH", data, off)
                if kind == nlmsg_done:
                    return backlogs
                if kind == nlmsg_error:
                    raise OSError("the kernel refused the sock_diag request")
                # inet_diag_msg: family, state, timer, retrans, sockid (48 bytes), expires, rqueue, wqueue
                body = data[off + 16:off + length]
                if struct.unpack_from("!H", body, 4)[0] == port:
                    backlogs.append(struct.unpack_from("=I", body, 4 + 48 + 8)[0])
                off += (length + 3) & ~3
