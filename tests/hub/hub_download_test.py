"""Hub downloads through the Python package (llcuda.models.resolve_model -> the C++ downloader in
src/hub), against fake_hub.FakeHub, a local server answering as the Hugging Face hub does. Oracles:
hashlib's sha256 and the bytes the server holds; the server's request log for what the client did
(resume with Range, token only to the hub, nothing at all when the file is cached or offline).

A pytest file (llcuda_add_pytest, tests/hub/CMakeLists.txt) with the package on PYTHONPATH. The tests
share one server and one cache and run in file order: the offline test reads what the first one
downloaded, and the last one closes the server.
"""
import faulthandler
import random
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_hub import FakeHub  # noqa: E402

from llcuda import models  # noqa: E402
from llcuda.errors import (FormatError, InvalidArgumentError, LlcudaIOError, ModelNotFoundError,  # noqa: E402
                           UnsupportedError)

SUPPORTED = models.download_supported()
needs_download = pytest.mark.skipif(not SUPPORTED, reason="this build has no download support (libcurl not found): "
                                                          "only its error is checked")
rng = random.Random(1234)


def data(n):
    return rng.randbytes(n)


def expect_error(cls, fn, *needles):
    """fn() raises `cls` whose message holds every needle (any other exception fails the test)."""
    with pytest.raises(cls) as info:
        fn()
    missing = [n for n in needles if n not in str(info.value)]
    assert not missing, f"{cls.__name__} message {str(info.value)!r} lacks {missing}"
    return str(info.value)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """The fake hub, the model cache it downloads into (a temporary folder: downloads are test data,
    never left behind) and the environment pointing at both."""
    faulthandler.dump_traceback_later(120, exit=True)  # a hang shows where, within ctest's limit
    server = FakeHub()
    cache = tmp_path_factory.mktemp("llcuda-hub-test-")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("LLCUDA_MODEL_CACHE", str(cache))
        env.setenv("HF_ENDPOINT", server.endpoint + "/")  # a trailing '/' as users write it
        env.delenv("HF_HUB_OFFLINE", raising=False)
        env.delenv("HF_TOKEN", raising=False)
        state = SimpleNamespace(server=server, cache=cache, env=env, first=None, closed=False)
        yield state
    if not state.closed:
        server.close()
    faulthandler.cancel_dump_traceback_later()


@pytest.mark.skipif(SUPPORTED, reason="this build downloads")
def test_no_download_support(hub):
    """A build without libcurl (cmake/Dependencies.cmake): a name to download is a clear error."""
    expect_error(UnsupportedError, lambda: models.resolve_model("owner/repo:x.gguf"), "without download support",
                 "x.gguf")
    assert not hub.server.requests, "no request without download support"


@needs_download
def test_lfs_download(hub):
    """An LFS file: redirect to the CDN, sha256 announced; lands at <cache>/<owner>/<repo>/<file>."""
    server, cache = hub.server, hub.cache
    model = data(3 << 20 | 12345)
    server.add("owner/repo", "model-Q4_K_M.gguf", model)
    seen = []
    path = models.resolve_model("owner/repo:model-Q4_K_M.gguf", progress=lambda done, total: seen.append((done, total)))
    assert path == cache / "owner" / "repo" / "model-Q4_K_M.gguf", f"download destination {path}"
    hub.first = path
    assert path.read_bytes() == model, "downloaded bytes equal the served ones"
    assert not list(path.parent.glob("*.incomplete")), "no partial file left after success"
    assert seen and seen[-1] == (len(model), len(model)), f"progress ends at (size, size): {seen[-1:]}"
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:])), "progress never goes back"
    assert all(t == len(model) for _, t in seen), "progress reports the announced size as total"
    n_before = len(server.requests)
    assert models.resolve_model("owner/repo:model-Q4_K_M.gguf") == path, "a cached name resolves to the same file"
    assert len(server.requests) == n_before, "a cached file makes no request"


@needs_download
@pytest.mark.parametrize("n", [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000])
def test_sha256_of_odd_sizes(hub, n):
    """Padding edge cases of the hash: the C++ hash must agree with hashlib's, or the announced sha256
    would not match and the download would fail."""
    hub.server.add("owner/sizes", f"f{n}.gguf", data(n))
    p = models.resolve_model(f"owner/sizes:f{n}.gguf")
    assert p.read_bytes() == hub.server.repos["owner/sizes"][f"f{n}.gguf"].data, f"{n}-byte file bytes"


@needs_download
def test_interrupted_transfer_resumes(hub):
    """A transfer interrupted twice (connection closed mid-body) resumes with Range from where it broke."""
    server = hub.server
    cut = server.add("owner/repo", "cut.gguf", data(2 << 20), cut_at=700_000, cuts=2)
    p = models.resolve_model("owner/repo:cut.gguf")
    assert p.read_bytes() == cut.data, "interrupted download: right bytes in the end"
    cdn = server.requests_to(f"/cdn/{server.key('owner/repo', 'cut.gguf')}")
    ranges = [r["headers"].get("range") for r in cdn]
    assert ranges == [None, "bytes=700000-", "bytes=1400000-"], f"resumed with Range from each cut: {ranges}"
    assert cut.cuts == 0, "the server cut both transfers it was asked to"


@needs_download
def test_partial_file_resumed(hub):
    """A partial file from an earlier run (e.g. Ctrl-C) is resumed, not fetched again."""
    server = hub.server
    resume = server.add("owner/repo", "resume.gguf", data(1 << 20))
    dest = hub.cache / "owner" / "repo" / "resume.gguf"
    dest.parent.mkdir(parents=True, exist_ok=True)
    Path(str(dest) + ".incomplete").write_bytes(resume.data[:400_000])
    p = models.resolve_model("owner/repo:resume.gguf")
    ranges = [r["headers"].get("range") for r in server.requests_to(f"/cdn/{server.key('owner/repo', 'resume.gguf')}")]
    assert p.read_bytes() == resume.data, "resumed download: right bytes"
    assert ranges == ["bytes=400000-"], f"one request, from byte 400000: {ranges}"


@needs_download
def test_stopped_download_resumes(hub):
    """Stopping from the progress callback keeps the partial file; the next call resumes it."""
    server = hub.server
    stop = server.add("owner/repo", "stop.gguf", data(8 << 20))
    stop_dest = hub.cache / "owner" / "repo" / "stop.gguf"
    expect_error(LlcudaIOError, lambda: models.resolve_model("owner/repo:stop.gguf", progress=lambda d, t: False),
                 "stop.gguf", "stopped")
    partial = Path(str(stop_dest) + ".incomplete")
    assert not stop_dest.exists() and partial.exists(), "a stopped download leaves only the partial file"
    kept = partial.stat().st_size
    p = models.resolve_model("owner/repo:stop.gguf")
    ranges = [r["headers"].get("range") for r in server.requests_to(f"/cdn/{server.key('owner/repo', 'stop.gguf')}")]
    assert p.read_bytes() == stop.data, "stopped then resumed: right bytes"
    assert kept <= 0 or ranges[-1] == f"bytes={kept}-", f"resumed from the {kept} kept bytes: {ranges}"


@needs_download
def test_wrong_checksum(hub):
    """A wrong checksum fails naming the file, and nothing is left at the final name (nor a partial)."""
    hub.server.add("owner/repo", "bad.gguf", data(100_000), announced_sha256="0" * 64)
    bad_dest = hub.cache / "owner" / "repo" / "bad.gguf"
    expect_error(FormatError, lambda: models.resolve_model("owner/repo:bad.gguf"), "bad.gguf", "sha256", "0" * 64)
    assert not bad_dest.exists(), "wrong checksum: no file at the final name"
    assert not Path(str(bad_dest) + ".incomplete").exists(), "wrong checksum: the partial file is deleted"


@needs_download
def test_small_non_lfs_file(hub):
    """A small (non-LFS) file answers 200 directly with a git ETag: downloaded, size-checked, no sha."""
    small = hub.server.add("owner/repo", "config.json", b'{"a": 1}\n', lfs=False)
    assert models.resolve_model("owner/repo:config.json").read_bytes() == small.data, "non-LFS file downloaded"


@needs_download
def test_not_found_and_bad_names(hub):
    """404s name what is missing; a malformed name is an argument error; a non-name is a missing file."""
    expect_error(ModelNotFoundError, lambda: models.resolve_model("owner/repo:nope.gguf"), "nope.gguf", "EntryNotFound",
                 "404")
    expect_error(ModelNotFoundError, lambda: models.resolve_model("nobody/nothing:x.gguf"), "nobody/nothing",
                 "RepoNotFound")
    assert not (hub.cache / "owner" / "repo" / "nope.gguf.incomplete").exists(), "a 404 creates no partial file"
    expect_error(InvalidArgumentError, lambda: models.resolve_model("owner/repo:"), "owner/repo:")
    expect_error(InvalidArgumentError, lambda: models.resolve_model("owner/re po:x.gguf"), "re po")
    expect_error(ModelNotFoundError, lambda: models.resolve_model("/no/such/dir/x:y.gguf"), "/no/such/dir/x:y.gguf")


@needs_download
def test_offline(hub):
    """The cache only, no request; a missing file is named."""
    assert hub.first is not None, "test_lfs_download did not leave its file to resolve offline"
    n_before = len(hub.server.requests)
    hub.env.setenv("HF_HUB_OFFLINE", "1")
    assert models.resolve_model("owner/repo:model-Q4_K_M.gguf") == hub.first, "offline: a cached file resolves"
    expect_error(ModelNotFoundError, lambda: models.resolve_model("owner/repo:absent.gguf"), "absent.gguf", "offline")
    hub.env.delenv("HF_HUB_OFFLINE")
    expect_error(ModelNotFoundError, lambda: models.resolve_model("owner/repo:absent2.gguf", offline=True),
                 "absent2.gguf", "offline")
    assert len(hub.server.requests) == n_before, "offline mode makes no request"


@needs_download
def test_gated_repo(hub):
    """401 says to set HF_TOKEN; with it, the token goes to the hub and not to the CDN."""
    server = hub.server
    gated = server.add("org/gated", "g.gguf", data(50_000))
    server.gated.add("org/gated")
    expect_error(InvalidArgumentError, lambda: models.resolve_model("org/gated:g.gguf"), "HF_TOKEN", "401")
    hub.env.setenv("HF_TOKEN", server.token)
    assert models.resolve_model("org/gated:g.gguf").read_bytes() == gated.data, "gated repo with HF_TOKEN"
    hub.env.delenv("HF_TOKEN")
    to_hub = server.requests_to("/org/gated/resolve/")
    to_cdn = server.requests_to(f"/cdn/{server.key('org/gated', 'g.gguf')}")
    assert to_hub and to_hub[-1]["headers"].get("authorization") == f"Bearer {server.token}", "token sent to the hub"
    assert to_cdn and all("authorization" not in r["headers"] for r in to_cdn), "token never sent to the CDN"


@needs_download
def test_moved_repository(hub):
    """A moved repository (307 on the hub itself) is followed to its new name."""
    moved = hub.server.add("owner/new-name", "m.gguf", data(10_000))
    hub.server.moved["owner/old-name"] = "owner/new-name"
    assert models.resolve_model("owner/old-name:m.gguf").read_bytes() == moved.data, "moved repository followed"


@needs_download
def test_revision(hub):
    """A revision other than main: asked for by name, cached apart."""
    rev = hub.server.add("owner/repo", "r.gguf", data(5_000))
    p = models.resolve_model("owner/repo@v2:r.gguf")
    assert p == hub.cache / "owner" / "repo@v2" / "r.gguf" and p.read_bytes() == rev.data, f"revision download at {p}"
    assert hub.server.requests_to("/owner/repo/resolve/v2/r.gguf"), "the revision is in the resolve URL"


@needs_download
def test_well_known_name(hub):
    """The well-known table: a short name downloads its repo:file."""
    cache = hub.cache
    wk = hub.server.add("unsloth/gemma-3-1b-it-GGUF", "gemma-3-1b-it-Q4_K_M.gguf", data(20_000))
    assert models.WELL_KNOWN["gemma-3-1b-Q4_K_M"].hf_name == "unsloth/gemma-3-1b-it-GGUF:gemma-3-1b-it-Q4_K_M.gguf", \
        "well-known name maps to its repo:file"
    p = models.resolve_model("gemma-3-1b-Q4_K_M")
    assert p == cache / "unsloth" / "gemma-3-1b-it-GGUF" / "gemma-3-1b-it-Q4_K_M.gguf" and p.read_bytes() == wk.data, \
        f"well-known name downloaded to {p}"
    assert models.cache_candidates("gemma-3-270m-Q4_K_M")[0] == cache / "gemma-3-270m-q4_k_m.gguf", \
        "a fetched test model is looked for under fetch-models.sh's name first"


@needs_download
def test_callback_exception_and_unreachable_hub(hub):
    """A callback's exception reaches the caller; an unreachable hub is an I/O error saying so."""
    hub.server.add("owner/repo", "raise.gguf", data(4 << 20))

    def boom(done, total):
        raise KeyError("from the callback")

    expect_error(KeyError, lambda: models.resolve_model("owner/repo:raise.gguf", progress=boom), "from the callback")
    hub.server.close()
    hub.closed = True
    expect_error(LlcudaIOError, lambda: models.resolve_model("owner/repo:unreachable.gguf"), "cannot reach",
                 "HF_HUB_OFFLINE")
