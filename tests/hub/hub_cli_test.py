"""The llcuda program's hub flags (-hf, --hf-repo/--hf-file, --offline; tools/llcuda/hub_flags.h)
and InferenceEngine.load_model with a hub name, against fake_hub.FakeHub serving the SmolLM2 test
model. Oracle: the same command run on the model file itself (-m PATH) must print the same text.

Run as hub_cli_test.py LLCUDA REPO_ROOT with the package on PYTHONPATH (tests/hub/CMakeLists.txt).
"""
import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from checks import Checks  # noqa: E402
from cli_support import SMOLLM2, describe, require_models, run  # noqa: E402
from fake_hub import FakeHub  # noqa: E402

llcuda_cli = sys.argv[1]
check = Checks()
hub = FakeHub()
cache = Path(tempfile.mkdtemp(prefix="llcuda-hub-cli-"))
atexit.register(shutil.rmtree, cache, True)  # downloads are test data: never left behind
local_smollm2 = Path(SMOLLM2)  # resolved before the cache folder changes below
os.environ["LLCUDA_MODEL_CACHE"] = str(cache)
os.environ["HF_ENDPOINT"] = hub.endpoint
os.environ.pop("HF_HUB_OFFLINE", None)
os.environ.pop("HF_TOKEN", None)

# Errors need no model: each names what is missing.
out = run(llcuda_cli, ["run", "-hf", "owner/repo:absent.gguf", "--offline", "-p", "Hi"])
err = out.stderr.decode()
check(out.returncode == 1 and "absent.gguf" in err and "offline" in err, f"--offline, not cached: {describe(out)}")
hub.add("owner/repo", "other.gguf", b"x")
out = run(llcuda_cli, ["run", "-hf", "owner/repo:nope.gguf", "-p", "Hi"])
err = out.stderr.decode()
check(out.returncode == 1 and "nope.gguf" in err and "404" in err, f"404 from the hub: {describe(out)}")
out = run(llcuda_cli, ["run", "-hf", "owner/repo:x.gguf", "-m", "y.gguf", "-p", "Hi"])
check(out.returncode != 0 and b"give one" in out.stderr, f"-hf with -m: {describe(out)}")
out = run(llcuda_cli, ["run", "--hf-file", "x.gguf", "-p", "Hi"])
check(out.returncode != 0 and b"--hf-repo" in out.stderr, f"--hf-file alone: {describe(out)}")
check(not list(cache.rglob("*.gguf")), "failed requests leave no model in the cache")

require_models(check, local_smollm2)
repo, name = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", "SmolLM2-135M-Instruct.Q4_1.gguf"
served = local_smollm2.read_bytes()
hub.add(repo, name, served)
gen = ["-p", "The capital of France is", "-n", "4", "--greedy", "--backend", "cpu", "-q"]
expected = run(llcuda_cli, ["run", "-m", local_smollm2, *gen])
check(expected.returncode == 0, f"run on the local file: {describe(expected)}")

# --hf-repo + --hf-file (llama.cpp's spelling) downloads, then generates what the local file does.
out = run(llcuda_cli, ["run", "--hf-repo", repo, "--hf-file", name, *gen])
dest = cache / repo / name
check(out.returncode == 0, f"run --hf-repo/--hf-file: {describe(out)}")
check(out.stdout == expected.stdout, f"same text as -m on the file: {out.stdout!r} vs {expected.stdout!r}")
check(dest.is_file() and dest.read_bytes() == served, "the model landed in the cache, byte for byte")
check(b"downloading" in out.stderr and b"100%" in out.stderr, f"a final progress line on stderr: {out.stderr[-300:]!r}")

# The well-known name of the same model, offline: found in the cache, no request to the hub.
n_before = len(hub.requests)
out = run(llcuda_cli, ["run", "-hf", "smollm2-135m-Q4_1", "--offline", *gen])
check(out.returncode == 0 and out.stdout == expected.stdout, f"-hf well-known name, offline: {describe(out)}")
out = run(llcuda_cli, ["bench", "-hf", "smollm2-135m-Q4_1", "--offline", "-p", "8", "-n", "2", "-r", "1",
                       "--backend", "cpu"])
check(out.returncode == 0 and name.encode() in out.stdout, f"bench -hf: {describe(out)}")
check(len(hub.requests) == n_before, "offline runs make no request")

# Python: load_model with a hub name (cached now) and with a missing one offline.
import llcuda  # noqa: E402
from llcuda.errors import ModelNotFoundError  # noqa: E402

engine = llcuda.InferenceEngine()
engine.load_model(f"{repo}:{name}", backend="cpu")
check(engine.is_loaded, "load_model('repo:file') from the cache")
result = engine.infer("The capital of France is", max_tokens=4, temperature=0)
check(result.success and result.tokens_generated > 0, f"infer after a hub-name load: {result.error_message}")
engine.unload_model()
try:
    engine.load_model("owner/repo:missing.gguf", offline=True)
    check(False, "load_model of a missing name offline must raise")
except ModelNotFoundError as e:
    check("missing.gguf" in str(e), f"the error names the file: {e}")

hub.close()
check.finish()
