"""Ctrl-C: a real SIGINT sent to a Python process in the middle of a long generation (infer, the
stream() generator, create_chat_completion) ends it with KeyboardInterrupt within a second or two,
not after the thousands of tokens asked for; uncaught, the process dies of SIGINT as Python programs
do; caught, the same engine generates again. Run by pytest (conftest.py)."""
import os
import signal
import subprocess
import sys
import time

import pytest

CHILD = r"""
import sys, time, llcuda
engine = llcuda.InferenceEngine()
engine.load_model(sys.argv[1])
how, catch = sys.argv[2], sys.argv[3] == "catch"
long = dict(max_tokens=4000, temperature=0, ignore_eos=True)
print("start", flush=True)
t0 = time.perf_counter()
try:
    if how == "infer":
        engine.infer("Once upon a time", **long)
    elif how == "stream":
        for piece in engine.stream("Once upon a time", **long):
            pass
    elif how == "chat":
        engine.create_chat_completion([{"role": "user", "content": "Tell me a long story."}], **long)
    print(f"finished after {time.perf_counter() - t0:.1f} s without an interrupt", flush=True)
except KeyboardInterrupt:
    if not catch:
        raise
    r = engine.infer("The capital of France is", max_tokens=4, temperature=0)
    print(f"caught; then infer success={r.success} tokens={r.tokens_generated}", flush=True)
"""


def interrupt(model, how, catch):
    """Runs the child, sends SIGINT a second into the generation; (returncode, stdout, stderr, seconds to exit)."""
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(model), how, "catch" if catch else "raise"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ)
    first = child.stdout.readline()
    if first.strip() != "start":
        child.kill()
        out, err = child.communicate()
        return None, first + out, err, 0
    time.sleep(1.0)
    sent = time.perf_counter()
    child.send_signal(signal.SIGINT)
    try:
        out, err = child.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        child.kill()
        out, err = child.communicate()
    return child.returncode, out, err, time.perf_counter() - sent


@pytest.mark.parametrize("how", ["infer", "stream", "chat"])
def test_uncaught_sigint_ends_the_process(smollm2, how):
    rc, out, err, seconds = interrupt(smollm2, how, catch=False)
    print(f"{how}: SIGINT -> exit {rc} in {seconds:.2f} s")
    assert rc == -signal.SIGINT and "KeyboardInterrupt" in err and seconds < 3, \
        f"{how}: exit {rc} after {seconds:.2f} s, stdout {out[-300:]!r}, stderr {err[-500:]!r}"


def test_caught_sigint_engine_generates_again(smollm2):
    rc, out, err, seconds = interrupt(smollm2, "infer", catch=True)
    assert rc == 0 and "caught; then infer success=True tokens=4" in out and seconds < 8, \
        f"caught: exit {rc} after {seconds:.2f} s, stdout {out[-300:]!r}, stderr {err[-500:]!r}"
