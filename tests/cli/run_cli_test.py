#!/usr/bin/env python3
"""`llcuda run`: the greedy text equals what the engine generates (engine_reference, public API) and
what llama.cpp generated (tests/golden/engine, from tests/oracles/engine_golden.py); the flags reach
the engine (-n, --temp, --stop, --seed, -f, --chat, --ignore-eos); bad flags and bad input end
with a non-zero exit and a message naming the problem.
Usage: run_cli_test.py PATH/TO/llcuda REPO_ROOT PATH/TO/engine_reference"""
import json
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from checks import Checks  # noqa: E402
from cli_support import GEMMA3, SMOLLM2, describe, require_models, run  # noqa: E402

llcuda, root, reference = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
check = Checks()
require_models(check, SMOLLM2, GEMMA3)
# The closing line; the rate only when at least two tokens were generated.
STATS = re.compile(rb"\[(?:cpu|cuda): (\d+) prompt tokens in .* ms, (\d+) generated(?: at .* tok/s)?, finish: (\w+)\]")


def generate(model, prompt, *flags):
    """Runs `llcuda run` and returns (generated text, finish reason, number generated) or None."""
    out = run(llcuda, ["run", "-m", model, "-p", prompt, *flags])
    text = out.stdout.decode("utf-8", "replace")
    stats = STATS.search(out.stderr)
    ok = out.returncode == 0 and text.startswith(prompt) and text.endswith("\n") and stats is not None
    check(ok, f"run {flags}: {describe(out)}, stdout {text[:200]!r}")
    if not ok:
        return None, None, None
    return text[len(prompt):-1], stats.group(3).decode(), int(stats.group(2))


def engine_greedy(model, prompt, n):
    """The engine's greedy text and the backend it ran on ("cpu", "cuda")."""
    out = run(reference, ["greedy", model, n, prompt])
    check(out.returncode == 0, f"engine_reference greedy: {describe(out)}")
    j = json.loads(out.stdout) if out.returncode == 0 else {}
    return j.get("text"), j.get("backend")


for name, model in (("smollm2", SMOLLM2), ("gemma3", GEMMA3)):
    golden = json.loads((root / "tests" / "golden" / "engine" / f"{name}.json").read_text())
    prompt = golden["prompt"]
    text, finish, n = generate(model, prompt, "--greedy", "-n", "32")
    want, backend = engine_greedy(model, prompt, 32)
    check(text is not None and text == want, f"{name}: llcuda run {text!r} != engine {want!r}")
    # llama.cpp's 32 greedy tokens (generated past end-of-generation; ours stop at the first one),
    # computed in F32 as the CPU engine computes (tests/engine/oracle_test.cpp): exact on the CPU.
    if backend == "cpu":
        check(text is not None and len(text) > 0 and golden["greedy_text"].startswith(text),
              f"{name}: {text!r} is not a prefix of llama.cpp's {golden['greedy_text']!r}")
    print(f"{name}: {n} greedy tokens on the {backend} backend, finish {finish}: {text!r}")

# SmolLM2 ends its answer with <|im_end|> (token 29 of llama.cpp's 32): finish "stop" before -n;
# --ignore-eos goes on to -n.
golden = json.loads((root / "tests" / "golden" / "engine" / "smollm2.json").read_text())
prompt = golden["prompt"]
full, finish, n = generate(SMOLLM2, prompt, "--greedy", "-n", "32")
_, backend = engine_greedy(SMOLLM2, prompt, 1)
if backend == "cpu":
    check(finish == "stop" and n == golden["greedy"].index(2), f"smollm2 without --ignore-eos: finish {finish}, {n} tokens")
_, finish_all, n_all = generate(SMOLLM2, prompt, "--greedy", "-n", "32", "--ignore-eos")
check(finish_all == "length" and n_all == 32, f"--ignore-eos: finish {finish_all}, {n_all} tokens")

# -n limits the count; --temp 0 is --greedy; -f reads the prompt from a file; -t does not change the text.
text, finish, n = generate(SMOLLM2, prompt, "--greedy", "-n", "5")
check(finish == "length" and n == 5 and full.startswith(text) and len(text) < len(full), f"-n 5: {text!r} {finish} {n}")
text, _, _ = generate(SMOLLM2, prompt, "--temp", "0", "-n", "32")
check(text == full, f"--temp 0 gave {text!r}, --greedy {full!r}")
text, _, _ = generate(SMOLLM2, prompt, "--greedy", "-n", "32", "-t", "1")
check(text == full, f"-t 1 gave {text!r}, all threads {full!r}")
with tempfile.TemporaryDirectory() as d:
    prompt_file = Path(d) / "prompt.txt"
    prompt_file.write_text(prompt)
    out = run(llcuda, ["run", "-m", SMOLLM2, "-f", prompt_file, "--greedy", "-n", "32", "-q"])
    check(out.returncode == 0 and out.stdout.decode() == prompt + full + "\n" and out.stderr == b"",
          f"-f FILE -q: {describe(out)}, stdout {out.stdout[:200]!r}")

# --stop: generation ends before the stop string, which is not printed.
stop = "."
text, finish, _ = generate(SMOLLM2, prompt, "--greedy", "-n", "32", "--stop", stop)
check(finish == "stop_string" and text == full[:full.index(stop)], f"--stop: {text!r} {finish}")

# --seed: the same seed gives the same sampled text.
sampled = [generate(SMOLLM2, prompt, "--temp", "1.0", "--seed", "1234", "-n", "24")[0] for _ in range(2)]
check(sampled[0] is not None and sampled[0] == sampled[1], f"--seed 1234 twice: {sampled}")

# --chat: one user turn through the chat template, as engine.chat() answers it.
out = run(llcuda, ["run", "-m", SMOLLM2, "--chat", "-p", "What is the capital of France?", "--greedy", "-n", "24", "-q"])
ref = run(reference, ["chat", SMOLLM2, 24, "What is the capital of France?"])
want = json.loads(ref.stdout)["replies"][0] if ref.returncode == 0 else None
check(out.returncode == 0 and want is not None and out.stdout.decode() == want + "\n",
      f"--chat: {describe(out)} {out.stdout[:200]!r} != engine {want!r}")

# Bad flags and bad input: non-zero exit and the problem named on stderr.
for args, needle in ((["--bogus"], b"--bogus"),
                     (["--temp", "warm"], b"--temp"),
                     (["-n", "many"], b"--n-predict"),
                     (["--top-p", "1.5"], b"top_p"),
                     (["--stop", ""], b"stop strings must not be empty"),
                     (["-m", "/nonexistent/model.gguf"], b"/nonexistent/model.gguf"),
                     (["-f", "/nonexistent/prompt.txt"], b"/nonexistent/prompt.txt"),
                     (["--backend", "tpu"], b"--backend"),
                     (["--kv-type", "q4"], b"--kv-type")):
    prompt_args = [] if "-f" in args else ["-p", "Hi"]  # -p with -f is itself refused
    full_args = ["run", *prompt_args, "-n", "4"] + (args if "-m" in args else ["-m", str(SMOLLM2)] + args)
    out = run(llcuda, full_args)
    check(out.returncode != 0 and needle in out.stderr,
          f"run {args}: expected a failure naming {needle!r}, got {describe(out)}")

# --backend cpu always runs on the CPU; --backend cuda where no GPU can be used is an error naming
# why (never a silent fall back to the CPU).
out = run(llcuda, ["run", "-m", SMOLLM2, "-p", "Hi", "-n", "2", "--greedy", "--backend", "cpu"])
check(out.returncode == 0 and b"[cpu: " in out.stderr, f"--backend cpu: {describe(out)}")
if backend == "cpu":
    out = run(llcuda, ["run", "-m", SMOLLM2, "-p", "Hi", "-n", "2", "--backend", "cuda"])
    check(out.returncode != 0 and b"CUDA backend was asked for but cannot be used" in out.stderr,
          f"--backend cuda without a usable GPU: {describe(out)}")
check.finish()
