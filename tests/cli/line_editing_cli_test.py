#!/usr/bin/env python3
"""`llcuda chat` on a terminal (a pseudo-terminal that is the program's controlling terminal, as in
a shell): line editing and history. The up arrow recalls the previous line, and the reply to the
recalled line equals what the engine's chat() gives for that conversation (engine_reference, public
API); a line edited with the Emacs keys (Ctrl-A, Ctrl-E, backspace) is sent as edited; Ctrl-C typed
during a reply stops the reply and returns to the prompt; Ctrl-C typed at the prompt quits with
exit code 0.
Usage: line_editing_cli_test.py PATH/TO/llcuda REPO_ROOT PATH/TO/engine_reference"""
import json
import os
import pty
import select
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


def engine_replies(*lines):
    out = run(reference, ["chat", SMOLLM2, N, *lines])
    check(out.returncode == 0, f"engine_reference chat: {describe(out)}")
    return json.loads(out.stdout)["replies"] if out.returncode == 0 else []


class Terminal:
    """`llcuda chat` with a pseudo-terminal as its controlling terminal: bytes typed, output read."""

    def __init__(self, *flags):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execv(llcuda, [llcuda, "chat", "-m", str(SMOLLM2), "--greedy", "-q", *flags])
        self.out = b""

    def pump(self, seconds):
        end = time.time() + seconds
        while time.time() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:  # the program exited
                    return
                if not data:
                    return
                self.out += data

    def wait_for(self, predicate, seconds=120):
        end = time.time() + seconds
        while time.time() < end and not predicate():
            self.pump(0.1)
        return predicate()

    def at_prompt(self):
        return self.wait_for(lambda: self.out.rstrip(b" ").endswith(b">"))

    def type(self, data):
        os.write(self.fd, data)

    def exit_status(self, seconds):
        end = time.time() + seconds
        while time.time() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            self.pump(0.1)
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        return None

    def text(self):
        return self.out.decode(errors="replace").replace("\r", "")


UP, CTRL_A, CTRL_E, BACKSPACE, CTRL_C = b"\x1b[A", b"\x01", b"\x05", b"\x7f", b"\x03"

# History and editing: "Hello" typed, then recalled with the up arrow and sent again, then
# "What is 2+3?!" typed, its "!" erased with backspace, the cursor moved to the start (Ctrl-A) and
# back to the end (Ctrl-E) before Enter: the model must receive "What is 2+3?".
want = engine_replies("Hello", "Hello", "What is 2+3?")
t = Terminal("-n", N)
check(t.at_prompt(), f"no prompt: {t.text()[-300:]!r}")
t.type(b"Hello\r")
check(len(want) == 3 and t.wait_for(lambda: want[0].encode() in t.out) and t.at_prompt(),
      f"first reply: want {want[:1]!r}, got {t.text()[-400:]!r}")
before = len(t.out)
t.type(UP + b"\r")
check(t.wait_for(lambda: t.out[before:].count(want[1].encode()) >= 1) and t.at_prompt(),
      f"the up arrow did not resend 'Hello' (reply {want[1:2]!r}): {t.text()[-400:]!r}")
before = len(t.out)
t.type(b"What is 2+3?!" + BACKSPACE + CTRL_A + CTRL_E + b"\r")
check(t.wait_for(lambda: want[2].encode() in t.out[before:]) and t.at_prompt(),
      f"edited line: want the reply {want[2:3]!r}, got {t.text()[-400:]!r}")
t.type(CTRL_C)
status = t.exit_status(20)
check(status == 0, f"Ctrl-C at the prompt: exit status {status}, want 0; output {t.text()[-300:]!r}")

# Ctrl-C typed during a long reply: the reply stops, the prompt comes back, the session goes on.
t = Terminal("-n", "2000", "--ignore-eos", "-c", "4096")
check(t.at_prompt(), f"no prompt: {t.text()[-300:]!r}")
t.type(b"Tell me a very long story.\r")
check(t.wait_for(lambda: len(t.out) > 150), f"no reply text: {t.text()[-300:]!r}")
started = time.time()
t.type(CTRL_C)
back = t.at_prompt()
check(back and time.time() - started < 20, f"Ctrl-C during the reply did not return to the prompt: {t.text()[-300:]!r}")
check("reply stopped" in t.text(), f"no notice that the reply stopped: {t.text()[-300:]!r}")
t.type(CTRL_C)
status = t.exit_status(20)
check(status == 0, f"Ctrl-C at the prompt after a stopped reply: exit status {status}")
check.finish()
