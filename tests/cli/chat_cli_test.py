#!/usr/bin/env python3
"""`llcuda chat` driven through standard input: each line is a user turn, and each reply equals what
the engine's chat() gives for the conversation so far (engine_reference, public API). Empty lines
are ignored; lines starting with "/" are commands that never reach the model (/exit, /reset,
/system, /help, unknown ones refused); a line that is not UTF-8 is refused naming the user's text and
the session goes on; when the conversation outgrows the context the oldest exchanges are dropped
with a notice; Ctrl-C (SIGINT) during a reply stops the reply only, at the prompt it quits.
Usage: chat_cli_test.py PATH/TO/llcuda REPO_ROOT PATH/TO/engine_reference"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from checks import Checks  # noqa: E402
from cli_support import SMOLLM2, describe, require_models, run  # noqa: E402

llcuda, root, reference = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
check = Checks()
require_models(check, SMOLLM2)
N = "24"
CHAT = ["chat", "-m", SMOLLM2, "--greedy", "-n", N, "-q"]


def engine_replies(*args):
    out = run(reference, ["chat", SMOLLM2, N, *args])
    check(out.returncode == 0, f"engine_reference chat: {describe(out)}")
    return json.loads(out.stdout)["replies"] if out.returncode == 0 else []


def transcript(replies):
    """What `llcuda chat` prints: a "> " prompt before each line, the reply to it (None: a line that
    was not sent, such as a command or an empty line), and a last empty prompt."""
    return "".join("> " if r is None else f"> {r}\n" for r in replies) + "> \n"


def chat(lines, *flags):
    return run(llcuda, CHAT + list(flags), stdin=("\n".join(lines) + "\n").encode())


questions = ["What is the capital of France?", "And of Germany?"]
# Two turns, then end of input: the second reply sees the first exchange.
out = chat(questions)
want = engine_replies(*questions)
check(out.returncode == 0 and out.stdout.decode() == transcript(want),
      f"two turns: {describe(out)}\n  got  {out.stdout.decode()!r}\n  want {transcript(want)!r}")
check(len(want) == 2 and all(want), f"the engine gave empty replies: {want}")

# An empty line (or blanks) is ignored: the turn after it is answered as if it were not there.
out = chat([questions[0], "", "   ", questions[1]])
check(out.returncode == 0 and out.stdout.decode() == transcript([want[0], None, None, want[1]]),
      f"empty lines: {describe(out)} {out.stdout.decode()!r}")

# Commands never reach the model: /help and an unknown command answer on stderr; /reset starts a new
# conversation (the next reply is the engine's answer to that question alone); /exit ends the
# session (what follows is never read).
alone = engine_replies(questions[1])
out = chat([questions[0], "/help", "/bogus", "/reset", questions[1], "/exit", "never sent"])
err = out.stderr.decode()
check(out.returncode == 0 and out.stdout.decode() == transcript([want[0], None, None, None, alone[0]])[:-3] + "> \n",
      f"commands: {describe(out)} {out.stdout.decode()!r} (want replies {want[0]!r}, {alone!r})")
check("/exit" in err and "/reset" in err and "/system" in err, f"/help lists the commands: {err!r}")
check('unknown command "/bogus"' in err and "not sent" in err, f"/bogus: {err!r}")
check("conversation cleared" in err, f"/reset: {err!r}")

# /system TEXT: the system message of the conversation, as --system / -sys give it.
system = "You answer in exactly one word."
with_system = engine_replies("--system", system, questions[0])
out = chat([f"/system {system}", questions[0]])
check(out.returncode == 0 and out.stdout.decode() == transcript([None] + with_system),
      f"/system: {describe(out)} {out.stdout.decode()!r} != {with_system!r}")
for flag in ("--system", "-sys", "--system-prompt"):
    out = chat([questions[0]], flag, system)
    check(out.returncode == 0 and out.stdout.decode() == transcript(with_system), f"{flag}: {out.stdout.decode()!r}")

# A line that is not UTF-8: refused naming the text, not sent; the session goes on.
out = run(llcuda, CHAT, stdin=b"caf\xe9 au lait\n" + questions[0].encode() + b"\n")
check(out.returncode == 0 and out.stdout.decode() == transcript([None, want[0]]),
      f"non-UTF-8: {describe(out)} {out.stdout!r}")
check(b'"caf\\xe9 au lait" is not valid UTF-8' in out.stderr and b"not sent" in out.stderr, f"non-UTF-8: {out.stderr!r}")

# A conversation that outgrows the context: with -c 64 each question leaves no room for the previous
# exchange, which is dropped (with a notice), so every reply is the engine's answer to its question
# alone; the session does not die.
capitals = [f"What is the capital of {c}?" for c in ("France", "Germany", "Italy")]
out = run(llcuda, ["chat", "-m", SMOLLM2, "--greedy", "-n", "16", "-q", "-c", "64"], stdin=("\n".join(capitals) + "\n").encode())
want_alone = [run(reference, ["chat", SMOLLM2, "16", q]) for q in capitals]
want_alone = [json.loads(r.stdout)["replies"][0] if r.returncode == 0 else None for r in want_alone]
check(out.returncode == 0 and out.stdout.decode() == transcript(want_alone),
      f"-c 64: {describe(out)} {out.stdout.decode()!r} != {want_alone!r}")
check(out.stderr.decode().count("dropped the 1 oldest exchange") == 2, f"-c 64 notices: {out.stderr!r}")
# A message that alone cannot fit is refused, naming it; the session goes on.
out = run(llcuda, ["chat", "-m", SMOLLM2, "--greedy", "-n", "16", "-q", "-c", "64"],
          stdin=("word " * 100 + "\n" + capitals[0] + "\n").encode())
check(out.returncode == 0 and out.stdout.decode() == transcript([None] + want_alone[:1])
      and b"it was not sent" in out.stderr and b'"word word' in out.stderr, f"too long: {describe(out)} {out.stdout!r}")

# Ctrl-C during a reply stops the reply and returns to the prompt, where the session goes on (a
# command is answered); Ctrl-C at the prompt quits.
proc = subprocess.Popen([str(llcuda), "chat", "-m", str(SMOLLM2), "--greedy", "-n", "2000", "--ignore-eos", "-q"],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def read_until(done):
    global shown
    while not done(shown):
        piece = os.read(proc.stdout.fileno(), 4096)
        if not piece:
            return
        shown += piece


shown = b""
proc.stdin.write(b"Tell me a long story.\n")
proc.stdin.flush()
read_until(lambda s: len(s) > 30)  # the reply has started
proc.send_signal(signal.SIGINT)
start = time.monotonic()
read_until(lambda s: s.endswith(b"\n> "))  # the prompt is back
stopped_in = time.monotonic() - start
proc.stdin.write(b"/help\n")
proc.stdin.flush()
read_until(lambda s: s.endswith(b"\n> > "))  # the command was read, the next prompt shown
time.sleep(0.2)
proc.send_signal(signal.SIGINT)  # at the prompt: quit
try:
    rest, err = proc.communicate(timeout=30)
except subprocess.TimeoutExpired:
    proc.kill()
    rest, err = proc.communicate()
    check(False, "Ctrl-C at the prompt did not end the session")
shown += rest
check(proc.returncode == 0 and stopped_in < 10 and shown.endswith(b"\n> > \n"),
      f"Ctrl-C: exit {proc.returncode}, stopped in {stopped_in:.1f} s, transcript {shown[-300:]!r}")
check(b"reply stopped" in err and b"/reset clears" in err, f"Ctrl-C: stderr {err!r}")

# No input at all: an empty prompt, exit 0. --help shows -n's real default.
out = run(llcuda, ["chat", "-m", SMOLLM2], stdin=b"")
check(out.returncode == 0 and out.stdout.decode() == "> \n", f"no input: {describe(out)} {out.stdout!r}")
out = run(llcuda, ["chat", "--help"])
check(out.returncode == 0 and b"=512" in out.stdout.split(b"--n-predict")[1].split(b"\n")[0],
      f"chat --help -n default: {out.stdout!r}")

# A missing model, a bad flag.
out = run(llcuda, ["chat", "-m", "/nonexistent/model.gguf"], stdin=b"hi\n")
check(out.returncode != 0 and b"/nonexistent/model.gguf" in out.stderr, f"missing model: {describe(out)}")
out = run(llcuda, ["chat", "-m", SMOLLM2, "--temp", "hot"], stdin=b"hi\n")
check(out.returncode != 0 and b"--temp" in out.stderr, f"bad --temp: {describe(out)}")
check.finish()
