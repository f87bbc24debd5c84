"""What the CLI tests share: the test models, stopping early when one is missing, running a program."""
import os
import subprocess
from pathlib import Path


def model_cache():
    """$LLCUDA_MODEL_CACHE, else ~/.cache/llcuda/models (llcuda/model_cache.h)."""
    env = os.environ.get("LLCUDA_MODEL_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "llcuda" / "models"


SMOLLM2 = model_cache() / "SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA3 = model_cache() / "gemma-3-270m-q4_k_m.gguf"


def require_models(check, *paths):
    """Ends the test when a model is missing, through checks.Checks: a failure under
    LLCUDA_REQUIRE_MODELS=1, else ctest's skip code (counted as a skip, never as a pass)."""
    missing = [p for p in paths if not Path(p).exists()]
    for p in missing:
        check.missing_model(p)
    if missing:
        check.finish()


def run(program, args, stdin=None, timeout=900):
    """Runs `program args...`; stdout and stderr come back as bytes."""
    return subprocess.run([str(program)] + [str(a) for a in args], capture_output=True, input=stdin,
                          timeout=timeout)


def describe(out):
    """A failed run in one line: exit code and the end of stderr."""
    return f"exit {out.returncode}, stderr {out.stderr[-400:]!r}"


def run_timed(program, args, stdin=None, timeout=300):
    """Runs `program args...` reading stdout as it arrives: returns (exit code, [(seconds, bytes)] one
    entry per read that returned data, stderr bytes). Several entries long before the exit show
    that the program wrote its output in pieces (streaming), not once at the end."""
    import time
    proc = subprocess.Popen([str(program)] + [str(a) for a in args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if stdin is not None:
        proc.stdin.write(stdin)
    proc.stdin.close()
    start = time.monotonic()
    chunks = []
    while True:
        data = os.read(proc.stdout.fileno(), 65536)
        if not data:
            break
        chunks.append((time.monotonic() - start, data))
    err = proc.stderr.read()
    proc.wait(timeout=timeout)
    chunks.append((time.monotonic() - start, b""))  # the end of output
    return proc.returncode, chunks, err
