"""Hub downloads through the Python package (llcuda.models.resolve_model -> the C++ downloader in
src/hub), against fake_hub.FakeHub, a local server answering as the Hugging Face hub does. Oracles:
hashlib's sha256 and the bytes the server holds; the server's request log for what the client did
(resume with Range, token only to the hub, nothing at all when the file is cached or offline).

Run as hub_download_test.py REPO_ROOT with the package on PYTHONPATH (tests/hub/CMakeLists.txt).
"""
import atexit
import os
import shutil
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from checks import Checks  # noqa: E402
from fake_hub import FakeHub  # noqa: E402

import faulthandler  # noqa: E402
faulthandler.dump_traceback_later(120, exit=True)  # a hang shows where, within ctest's limit
check = Checks()
rng = random.Random(1234)
hub = FakeHub()
cache = Path(tempfile.mkdtemp(prefix="llcuda-hub-test-"))
atexit.register(shutil.rmtree, cache, True)  # downloads are test data: never left behind
os.environ["LLCUDA_MODEL_CACHE"] = str(cache)
os.environ["HF_ENDPOINT"] = hub.endpoint + "/"  # a trailing '/' as users write it
os.environ.pop("HF_HUB_OFFLINE", None)
os.environ.pop("HF_TOKEN", None)

import llcuda  # noqa: E402
from llcuda import models  # noqa: E402
from llcuda.errors import (FormatError, InvalidArgumentError, LlcudaIOError, ModelNotFoundError,  # noqa: E402
                           UnsupportedError)


def data(n):
    return rng.randbytes(n)


def expect_error(cls, fn, *needles):
    try:
        fn()
    except cls as e:
        missing = [n for n in needles if n not in str(e)]
        check(not missing, f"{cls.__name__} message {str(e)!r} lacks {missing}")
        return str(e)
    except Exception as e:  # noqa: BLE001
        check(False, f"expected {cls.__name__}, got {type(e).__name__}: {e}")
        return None
    check(False, f"expected {cls.__name__}, nothing raised")
    return None


if not models.download_supported():
    # A build without libcurl (cmake/Dependencies.cmake): a name to download is a clear error.
    expect_error(UnsupportedError, lambda: models.resolve_model("owner/repo:x.gguf"), "without download support",
                 "x.gguf")
    check(not hub.requests, "no request without download support")
    print("this build has no download support (libcurl not found): only its error was checked")
    check.finish()

# 1. An LFS file: redirect to the CDN, sha256 announced; lands at <cache>/<owner>/<repo>/<file>.
model = data(3 << 20 | 12345)
hub.add("owner/repo", "model-Q4_K_M.gguf", model)
seen = []
path = models.resolve_model("owner/repo:model-Q4_K_M.gguf", progress=lambda done, total: seen.append((done, total)))
check(path == cache / "owner" / "repo" / "model-Q4_K_M.gguf", f"download destination {path}")
check(path.read_bytes() == model, "downloaded bytes equal the served ones")
check(not list(path.parent.glob("*.incomplete")), "no partial file left after success")
check(seen and seen[-1] == (len(model), len(model)), f"progress ends at (size, size): {seen[-1:]}")
check(all(a[0] <= b[0] for a, b in zip(seen, seen[1:])), "progress never goes back")
check(all(t == len(model) for _, t in seen), "progress reports the announced size as total")
n_before = len(hub.requests)
check(models.resolve_model("owner/repo:model-Q4_K_M.gguf") == path, "a cached name resolves to the same file")
check(len(hub.requests) == n_before, "a cached file makes no request")

# 2. sha256 of odd sizes (padding edge cases of the hash): the C++ hash must agree with hashlib's,
# or the announced sha256 would not match and the download would fail.
for n in (0, 1, 55, 56, 63, 64, 65, 119, 120, 1000):
    hub.add("owner/sizes", f"f{n}.gguf", data(n))
    try:
        p = models.resolve_model(f"owner/sizes:f{n}.gguf")
        check(p.read_bytes() == hub.repos["owner/sizes"][f"f{n}.gguf"].data, f"{n}-byte file bytes")
    except Exception as e:  # noqa: BLE001
        check(False, f"{n}-byte file: {type(e).__name__}: {e}")

# 3. A transfer interrupted twice (connection closed mid-body) resumes with Range from where it broke.
cut = hub.add("owner/repo", "cut.gguf", data(2 << 20), cut_at=700_000, cuts=2)
p = models.resolve_model("owner/repo:cut.gguf")
check(p.read_bytes() == cut.data, "interrupted download: right bytes in the end")
cdn = hub.requests_to(f"/cdn/{hub.key('owner/repo', 'cut.gguf')}")
ranges = [r["headers"].get("range") for r in cdn]
check(ranges == [None, "bytes=700000-", "bytes=1400000-"], f"resumed with Range from each cut: {ranges}")
check(cut.cuts == 0, "the server cut both transfers it was asked to")

# 4. A partial file from an earlier run (e.g. Ctrl-C) is resumed, not fetched again.
resume = hub.add("owner/repo", "resume.gguf", data(1 << 20))
dest = cache / "owner" / "repo" / "resume.gguf"
dest.parent.mkdir(parents=True, exist_ok=True)
Path(str(dest) + ".incomplete").write_bytes(resume.data[:400_000])
p = models.resolve_model("owner/repo:resume.gguf")
ranges = [r["headers"].get("range") for r in hub.requests_to(f"/cdn/{hub.key('owner/repo', 'resume.gguf')}")]
check(p.read_bytes() == resume.data, "resumed download: right bytes")
check(ranges == ["bytes=400000-"], f"one request, from byte 400000: {ranges}")

# 5. Stopping from the progress callback keeps the partial file; the next call resumes it.
stop = hub.add("owner/repo", "stop.gguf", data(8 << 20))
stop_dest = cache / "owner" / "repo" / "stop.gguf"
expect_error(LlcudaIOError, lambda: models.resolve_model("owner/repo:stop.gguf", progress=lambda d, t: False),
             "stop.gguf", "stopped")
partial = Path(str(stop_dest) + ".incomplete")
check(not stop_dest.exists() and partial.exists(), "a stopped download leaves only the partial file")
kept = partial.stat().st_size if partial.exists() else -1
p = models.resolve_model("owner/repo:stop.gguf")
ranges = [r["headers"].get("range") for r in hub.requests_to(f"/cdn/{hub.key('owner/repo', 'stop.gguf')}")]
check(p.read_bytes() == stop.data, "stopped then resumed: right bytes")
check(kept <= 0 or ranges[-1] == f"bytes={kept}-", f"resumed from the {kept} kept bytes: {ranges}")

# 6. A wrong checksum fails naming the file, and nothing is left at the final name (nor a partial).
hub.add("owner/repo", "bad.gguf", data(100_000), announced_sha256="0" * 64)
bad_dest = cache / "owner" / "repo" / "bad.gguf"
expect_error(FormatError, lambda: models.resolve_model("owner/repo:bad.gguf"), "bad.gguf", "sha256", "0" * 64)
check(not bad_dest.exists(), "wrong checksum: no file at the final name")
check(not Path(str(bad_dest) + ".incomplete").exists(), "wrong checksum: the partial file is deleted")

# 7. A small (non-LFS) file answers 200 directly with a git ETag: downloaded, size-checked, no sha.
small = hub.add("owner/repo", "config.json", b'{"a": 1}\n', lfs=False)
check(models.resolve_model("owner/repo:config.json").read_bytes() == small.data, "non-LFS file downloaded")

# 8. 404s name what is missing; a malformed name is an argument error; a non-name is a missing file.
expect_error(ModelNotFoundError, lambda: models.resolve_model("owner/repo:nope.gguf"), "nope.gguf", "EntryNotFound",
             "404")
expect_error(ModelNotFoundError, lambda: models.resolve_model("nobody/nothing:x.gguf"), "nobody/nothing",
             "RepoNotFound")
check(not (cache / "owner" / "repo" / "nope.gguf.incomplete").exists(), "a 404 creates no partial file")
expect_error(InvalidArgumentError, lambda: models.resolve_model("owner/repo:"), "owner/repo:")
expect_error(InvalidArgumentError, lambda: models.resolve_model("owner/re po:x.gguf"), "re po")
expect_error(ModelNotFoundError, lambda: models.resolve_model("/no/such/dir/x:y.gguf"), "/no/such/dir/x:y.gguf")

# 9. Offline: the cache only, no request; a missing file is named.
n_before = len(hub.requests)
os.environ["HF_HUB_OFFLINE"] = "1"
check(models.resolve_model("owner/repo:model-Q4_K_M.gguf") == path, "offline: a cached file resolves")
expect_error(ModelNotFoundError, lambda: models.resolve_model("owner/repo:absent.gguf"), "absent.gguf", "offline")
del os.environ["HF_HUB_OFFLINE"]
expect_error(ModelNotFoundError, lambda: models.resolve_model("owner/repo:absent2.gguf", offline=True),
             "absent2.gguf", "offline")
check(len(hub.requests) == n_before, "offline mode makes no request")

# 10. A gated repo: 401 says to set HF_TOKEN; with it, the token goes to the hub and not to the CDN.
gated = hub.add("org/gated", "g.gguf", data(50_000))
hub.gated.add("org/gated")
expect_error(InvalidArgumentError, lambda: models.resolve_model("org/gated:g.gguf"), "HF_TOKEN", "401")
os.environ["HF_TOKEN"] = hub.token
check(models.resolve_model("org/gated:g.gguf").read_bytes() == gated.data, "gated repo with HF_TOKEN")
del os.environ["HF_TOKEN"]
to_hub = hub.requests_to("/org/gated/resolve/")
to_cdn = hub.requests_to(f"/cdn/{hub.key('org/gated', 'g.gguf')}")
check(to_hub and to_hub[-1]["headers"].get("authorization") == f"Bearer {hub.token}", "token sent to the hub")
check(to_cdn and all("authorization" not in r["headers"] for r in to_cdn), "token never sent to the CDN")

# 11. A moved repository (307 on the hub itself) is followed to its new name.
moved = hub.add("owner/new-name", "m.gguf", data(10_000))
hub.moved["owner/old-name"] = "owner/new-name"
check(models.resolve_model("owner/old-name:m.gguf").read_bytes() == moved.data, "moved repository followed")

# 12. A revision other than main: asked for by name, cached apart.
rev = hub.add("owner/repo", "r.gguf", data(5_000))
p = models.resolve_model("owner/repo@v2:r.gguf")
check(p == cache / "owner" / "repo@v2" / "r.gguf" and p.read_bytes() == rev.data, f"revision download at {p}")
check(hub.requests_to("/owner/repo/resolve/v2/r.gguf"), "the revision is in the resolve URL")

# 13. The well-known table: a short name downloads its repo:file.
wk = hub.add("unsloth/gemma-3-1b-it-GGUF", "gemma-3-1b-it-Q4_K_M.gguf", data(20_000))
check(models.WELL_KNOWN["gemma-3-1b-Q4_K_M"].hf_name == "unsloth/gemma-3-1b-it-GGUF:gemma-3-1b-it-Q4_K_M.gguf",
      "well-known name maps to its repo:file")
p = models.resolve_model("gemma-3-1b-Q4_K_M")
check(p == cache / "unsloth" / "gemma-3-1b-it-GGUF" / "gemma-3-1b-it-Q4_K_M.gguf" and p.read_bytes() == wk.data,
      f"well-known name downloaded to {p}")
check(models.cache_candidates("gemma-3-270m-Q4_K_M")[0] == cache / "gemma-3-270m-q4_k_m.gguf",
      "a fetched test model is looked for under fetch-models.sh's name first")

# 14. A callback's exception reaches the caller; an unreachable hub is an I/O error saying so.
hub.add("owner/repo", "raise.gguf", data(4 << 20))


def boom(done, total):
    raise KeyError("from the callback")


expect_error(KeyError, lambda: models.resolve_model("owner/repo:raise.gguf", progress=boom), "from the callback")
hub.close()
expect_error(LlcudaIOError, lambda: models.resolve_model("owner/repo:unreachable.gguf"), "cannot reach",
             "HF_HUB_OFFLINE")

check.finish()
