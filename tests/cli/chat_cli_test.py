#!/usr/bin/env python3
"""`llcuda chat` driven through standard input: each line is a user turn, and each reply equals what
the engine's chat() gives for the conversation so far (engine_reference, public API); an empty line
or the end of input quits; --system reaches the template; a bad model is a clear error.
Usage: chat_cli_test.py PATH/TO/llcuda REPO_ROOT PATH/TO/engine_reference"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from checks import Checks  # noqa: E402
from cli_support import SMOLLM2, describe, require_models, run  # noqa: E402

llcuda, root, reference = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
check = Checks()
require_models(check, SMOLLM2)
N = "24"


def engine_replies(*args):
    out = run(reference, ["chat", SMOLLM2, N, *args])
    check(out.returncode == 0, f"engine_reference chat: {describe(out)}")
    return json.loads(out.stdout)["replies"] if out.returncode == 0 else []


def transcript(replies):
    """What `llcuda chat` prints: a "> " prompt before each turn, the reply, and a last empty prompt."""
    return "".join(f"> {r}\n" for r in replies) + "> \n"


questions = ["What is the capital of France?", "And of Germany?"]
# Two turns, then end of input: the second reply sees the first exchange.
out = run(llcuda, ["chat", "-m", SMOLLM2, "--greedy", "-n", N], stdin=("\n".join(questions) + "\n").encode())
want = engine_replies(*questions)
check(out.returncode == 0 and out.stdout.decode() == transcript(want),
      f"two turns: {describe(out)}\n  got  {out.stdout.decode()!r}\n  want {transcript(want)!r}")
check(len(want) == 2 and all(want), f"the engine gave empty replies: {want}")

# An empty line quits: the turn after it is never answered.
out = run(llcuda, ["chat", "-m", SMOLLM2, "--greedy", "-n", N], stdin=f"{questions[0]}\n\n{questions[1]}\n".encode())
check(out.returncode == 0 and out.stdout.decode() == transcript(want[:1]), f"empty line: {out.stdout.decode()!r}")

# --system: the system message is part of the conversation the engine sees.
system = "You answer in exactly one word."
out = run(llcuda, ["chat", "-m", SMOLLM2, "--greedy", "-n", N, "--system", system], stdin=f"{questions[0]}\n".encode())
with_system = engine_replies("--system", system, questions[0])
check(out.returncode == 0 and out.stdout.decode() == transcript(with_system), f"--system: {out.stdout.decode()!r}")

# No input at all: an empty prompt, exit 0.
out = run(llcuda, ["chat", "-m", SMOLLM2], stdin=b"")
check(out.returncode == 0 and out.stdout.decode() == "> \n", f"no input: {describe(out)} {out.stdout!r}")

# A missing model, a bad flag.
out = run(llcuda, ["chat", "-m", "/nonexistent/model.gguf"], stdin=b"hi\n")
check(out.returncode != 0 and b"/nonexistent/model.gguf" in out.stderr, f"missing model: {describe(out)}")
out = run(llcuda, ["chat", "-m", SMOLLM2, "--temp", "hot"], stdin=b"hi\n")
check(out.returncode != 0 and b"--temp" in out.stderr, f"bad --temp: {describe(out)}")
check.finish()
