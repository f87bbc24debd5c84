"""A local HTTP server that answers the way the Hugging Face hub does, for the download tests (the
machines that run them have no route to the hub). What it emulates, as huggingface_hub's own client
expects it (file_download.py: HEAD without following redirects, then GET the data):

  HEAD/GET /{owner}/{repo}/resolve/{revision}/{file}
    LFS file     302 to {cdn}/cdn/{key}, with X-Linked-Etag: "<sha256>", X-Linked-Size, ETag
    small file   200, the bytes themselves, ETag: "<git blob sha1>" (40 hex: not a sha256)
    no repo      404, X-Error-Code: RepoNotFound;  no file: 404, X-Error-Code: EntryNotFound
    gated repo   401, X-Error-Code: GatedRepo, unless "Authorization: Bearer <token>"
    moved repo   307 to the same path under the new name (relative Location), no X-Linked-*
  GET {cdn}/cdn/{key}   200, or 206 for "Range: bytes=N-" with Content-Range; a file marked with
    `cut_at` is sent with its full Content-Length but the connection is closed after `cut_at` bytes
    the first `cuts` times (an interrupted transfer).

Every request is recorded (method, path, headers) so that the tests can check what the client did.
The CDN is addressed as "localhost" while the hub is "127.0.0.1": another host, as the real CDN is.
"""
import hashlib
import http.server
import re
import threading
from dataclasses import dataclass
from typing import Dict, Optional


@dataclass
class HubFile:
    data: bytes
    lfs: bool = True
    announced_sha256: Optional[str] = None  # a wrong one, to test the check
    cut_at: Optional[int] = None
    cuts: int = 0                             # interrupted transfers still to do

    def sha256(self):
        return self.announced_sha256 or hashlib.sha256(self.data).hexdigest()


class FakeHub:
    def __init__(self, token="hf_test_token"):
        self.repos: Dict[str, Dict[str, HubFile]] = {}
        self.gated = set()
        self.moved: Dict[str, str] = {}
        self.token = token
        self.requests = []
        self.lock = threading.Lock()
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def handle(self):
                try:
                    super().handle()
                except (ConnectionResetError, BrokenPipeError):
                    pass  # the client stopped a transfer on purpose (a test of stopping)

            def do_HEAD(self):
                hub._answer(self, head=True)

            def do_GET(self):
                hub._answer(self, head=False)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.cdn = f"http://localhost:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def add(self, repo, name, data, **kw):
        f = HubFile(data, **kw)
        self.repos.setdefault(repo, {})[name] = f
        return f

    def key(self, repo, name):
        return f"{repo.replace('/', '--')}--{name}"

    def requests_to(self, prefix):
        with self.lock:
            return [r for r in self.requests if r["path"].startswith(prefix)]

    # --- answering ---
    def _record(self, h, head):
        with self.lock:
            self.requests.append({"method": "HEAD" if head else "GET", "path": h.path,
                                  "headers": {k.lower(): v for k, v in h.headers.items()}})

    def _send(self, h, status, headers, body=b"", head=False):
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, str(v))
        if "Content-Length" not in headers:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if not head and body:
            h.wfile.write(body)

    def _answer(self, h, head):
        self._record(h, head)
        path = h.path.split("?")[0]
        m = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/([^/]+)", path)
        if m:
            return self._resolve(h, head, m.group(1), m.group(2), m.group(3))
        m = re.fullmatch(r"/cdn/([^/]+)", path)
        if m:
            return self._cdn(h, head, m.group(1))
        self._send(h, 404, {}, b"no route", head)

    def _resolve(self, h, head, repo, revision, name):
        if repo in self.moved:
            new = self.moved[repo]
            return self._send(h, 307, {"Location": f"/{new}/resolve/{revision}/{name}"}, b"", head)
        if repo not in self.repos:
            return self._send(h, 404, {"X-Error-Code": "RepoNotFound"}, b"Repository not found", head)
        if repo in self.gated and h.headers.get("Authorization") != f"Bearer {self.token}":
            return self._send(h, 401, {"X-Error-Code": "GatedRepo"}, b"Access to this repo is restricted", head)
        f = self.repos[repo].get(name)
        if f is None:
            return self._send(h, 404, {"X-Error-Code": "EntryNotFound"}, b"Entry not found", head)
        if not f.lfs:
            etag = hashlib.sha1(b"blob %d\0" % len(f.data) + f.data).hexdigest()
            return self._send(h, 200, {"ETag": f'"{etag}"'}, f.data, head)
        sha = f.sha256()
        self._send(h, 302, {"Location": f"{self.cdn}/cdn/{self.key(repo, name)}?X-Amz-Signature=abc",
                            "X-Linked-Etag": f'"{sha}"', "X-Linked-Size": len(f.data), "ETag": f'"{sha}"'},
                   b"", head)

    def _cdn(self, h, head, key):
        f = next((f for repo, files in self.repos.items() for n, f in files.items() if self.key(repo, n) == key), None)
        if f is None:
            return self._send(h, 404, {}, b"no such object", head)
        size = len(f.data)
        start = 0
        rng = h.headers.get("Range")
        headers = {"ETag": '"cdn-md5-not-a-sha"', "Accept-Ranges": "bytes"}
        status = 200
        if rng:
            m = re.fullmatch(r"bytes=(\d+)-", rng)
            start = int(m.group(1))
            if start >= size:
                return self._send(h, 416, {"Content-Range": f"bytes */{size}"}, b"", head)
            status = 206
            headers["Content-Range"] = f"bytes {start}-{size - 1}/{size}"
        body = f.data[start:]
        headers["Content-Length"] = len(body)
        with self.lock:
            cut = f.cut_at is not None and f.cuts > 0
            if cut:
                f.cuts -= 1
        if cut and not head:
            h.send_response(status)
            for k, v in headers.items():
                h.send_header(k, str(v))
            h.end_headers()
            h.wfile.write(body[:f.cut_at])
            h.wfile.flush()
            h.close_connection = True
            return
        self._send(h, status, headers, body, head)
