#!/usr/bin/env python3
"""Streaming: `llcuda run`, `llcuda run --chat` and `llcuda chat` write the generated text as it is
produced, so a reader of their standard output receives it in many pieces, not in one write at
the end; the streamed text is still exactly the engine's
(engine_reference, public API), and pieces are whole UTF-8 characters.
Usage: stream_cli_test.py PATH/TO/llcuda REPO_ROOT PATH/TO/engine_reference"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from checks import Checks  # noqa: E402
from cli_support import GEMMA3, SMOLLM2, describe, require_models, run, run_timed  # noqa: E402

llcuda, root, reference = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
check = Checks()
require_models(check, SMOLLM2, GEMMA3)
N = 32
QUESTION = "Write a short poem about the sea."


def check_streamed(what, code, chunks, err):
    """Output arrived in at least 4 reads (one write at the end arrives in one or two). No timing
    bound: on a GPU the whole reply takes less time than loading the model."""
    data = [c for c in chunks if c[1]]
    end = chunks[-1][0]
    ok = code == 0 and len(data) >= 4
    check(ok, f"{what}: exit {code}, {len(data)} reads at {[round(t, 2) for t, _ in data][:8]} s, end {end:.2f} s, "
              f"stderr {err[-300:]!r}")
    for _, piece in data:  # every piece decodes alone: whole UTF-8 characters
        try:
            piece.decode("utf-8")
        except UnicodeDecodeError:
            check(False, f"{what}: a piece is not whole UTF-8 characters: {piece!r}")
    print(f"{what}: {len(data)} reads over {end:.2f} s")
    return b"".join(c[1] for c in chunks).decode("utf-8", "replace")


# run: the prompt, then the continuation token by token.
code, chunks, err = run_timed(llcuda, ["run", "-m", SMOLLM2, "-p", "Once upon a time", "--greedy", "-n", N,
                                       "--ignore-eos", "-q"])
text = check_streamed("run", code, chunks, err)
ref = run(reference, ["greedy", SMOLLM2, N, "Once upon a time"])
want = json.loads(ref.stdout)["text"] if ref.returncode == 0 else None
check(want is not None and text == "Once upon a time" + want + "\n", f"run streamed {text!r} != engine {want!r}")

# run --chat and chat: the reply streamed, equal to engine.chat()'s. Gemma's template writes its BOS
# itself (the streamed prompt must not get a second one).
for name, model in (("smollm2", SMOLLM2), ("gemma3", GEMMA3)):
    ref = run(reference, ["chat", model, N, QUESTION])
    want = json.loads(ref.stdout)["replies"][0] if ref.returncode == 0 else None
    code, chunks, err = run_timed(llcuda, ["run", "-m", model, "--chat", "-p", QUESTION, "--greedy", "-n", N, "-q"])
    text = check_streamed(f"run --chat {name}", code, chunks, err)
    check(want is not None and text == want + "\n", f"run --chat {name}: {text!r} != engine {want!r}")

ref = run(reference, ["chat", SMOLLM2, N, QUESTION])
want = json.loads(ref.stdout)["replies"][0] if ref.returncode == 0 else None
code, chunks, err = run_timed(llcuda, ["chat", "-m", SMOLLM2, "--greedy", "-n", N, "-q"], stdin=(QUESTION + "\n").encode())
text = check_streamed("chat", code, chunks, err)
check(want is not None and text == f"> {want}\n> \n", f"chat: {text!r} != engine {want!r}")
check.finish()
