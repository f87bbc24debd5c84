#!/usr/bin/env python3
"""`llcuda run` checks its limits before any work and says what runs:
- every flag value (sampling, -c, -t, -n, -s) is refused before the model is even opened (a missing
  model file is not what the error names); -p with -f is refused;
- a context whose KV cache and buffers do not fit in free memory is refused at once, exit 1, with
  the memory needed and the memory free (never a kill by the kernel); one beyond 4x the training
  context is refused naming it, one beyond it but within 4x warns and runs;
- the statistics line tells a full context (context_full) from -n (length), and gives a rate only
  when at least two tokens were generated;
- a first stderr line names the model, architecture, quantization, backend, context and threads
  (compared with `llcuda inspect`); a long prompt gets a progress line; -q silences both.
Usage: limits_cli_test.py PATH/TO/llcuda REPO_ROOT"""
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from checks import Checks  # noqa: E402
from cli_support import SMOLLM2, describe, require_models, run  # noqa: E402

llcuda, root = sys.argv[1], Path(sys.argv[2])
check = Checks()
require_models(check, SMOLLM2)
STATS = re.compile(rb"\[(?:cpu|cuda): (\d+) prompt tokens in .* ms, (\d+) generated(?: at ([0-9.]+) tok/s)?, finish: (\w+)\]")


def gen(*flags, model=SMOLLM2):
    return run(llcuda, ["run", "-m", model, "-p", "Hello"] + [str(f) for f in flags])


# Bad values are refused before the model is opened: with a model path that does not exist, the
# error still names the flag, not the file.
for flags, needle in ((["--temp", "-1"], b"temperature"), (["-t", "100000"], b"-t/--threads 100000"),
                      (["-t", "-3"], b"-t/--threads -3"), (["-c", "1"], b"-c/--ctx-size 1"),
                      (["-c", "-5"], b"-c/--ctx-size -5"), (["-n", "-7"], b"-n/--n-predict -7"),
                      (["-s", "-9"], b"-s/--seed -9"), (["--top-p", "2"], b"top_p"),
                      (["-b", "-1"], b"-b/--batch-size")):
    out = gen(*flags, model="/nonexistent/model.gguf")
    check(out.returncode == 1 and needle in out.stderr and b"/nonexistent" not in out.stderr,
          f"{flags}: want exit 1 naming {needle!r} before the model, got {describe(out)}")
with tempfile.TemporaryDirectory() as d:
    prompt_file = Path(d) / "prompt.txt"
    prompt_file.write_text("Hello")
    out = gen("-f", prompt_file)
    check(out.returncode != 0 and b"--prompt" in out.stderr and b"--file" in out.stderr, f"-p with -f: {describe(out)}")
    # A prompt that is not UTF-8: named in the user's terms (not a tokenizer offset), before the model.
    prompt_file.write_bytes(b"caf\xe9")
    out = run(llcuda, ["run", "-m", "/nonexistent/model.gguf", "-f", prompt_file])
    check(out.returncode == 1 and b'the prompt "caf\\xe9" is not valid UTF-8 (byte 0xe9 at offset 3)' in out.stderr,
          f"non-UTF-8 prompt: {describe(out)}")

# A context that cannot fit: refused at once with both figures, before the model loads.
start = time.monotonic()
out = gen("-c", "10000000", "-n", "1")
seconds = time.monotonic() - start
err = out.stderr.decode()
check(out.returncode == 1 and re.search(r"a context of 10000000 tokens needs [0-9.]+ GiB of (RAM|GPU memory) .* but only "
                                         r"[0-9.]+ [GMK]iB is free", err) and seconds < 20 and "llcuda: Smollm2" not in err,
      f"-c 10000000: {describe(out)} in {seconds:.1f} s")
# Beyond 4x the training context (8192): refused naming it (or, with little free memory, by the
# memory check); --force-ctx lets it through to the memory check.
out = gen("-c", "100000", "-n", "1")
check(out.returncode == 1 and (b"8192 tokens the model was trained for" in out.stderr and b"--force-ctx" in out.stderr
                               or b"is free" in out.stderr), f"-c 100000: {describe(out)}")
# Beyond the training context within 4x: a warning, and it runs.
out = gen("-c", "9000", "-n", "2", "--greedy")
check(out.returncode == 0 and b"warning: -c 9000 is beyond the 8192 tokens the model was trained for" in out.stderr,
      f"-c 9000: {describe(out)}")

# Finish reasons: -n ends with "length", a full context with "context_full"; the rate needs two tokens.
out = gen("-n", "4", "--greedy", "--ignore-eos")
m = STATS.search(out.stderr)
check(out.returncode == 0 and m and m.group(2) == b"4" and m.group(4) == b"length" and m.group(3),
      f"-n 4: {describe(out)}")
out = gen("-c", "16", "-n", "100", "--greedy", "--ignore-eos")
m = STATS.search(out.stderr)
check(out.returncode == 0 and m and int(m.group(1)) + int(m.group(2)) >= 15 and m.group(4) == b"context_full",
      f"-c 16 -n 100: {describe(out)}")
out = gen("-n", "1", "--greedy")
m = STATS.search(out.stderr)
check(out.returncode == 0 and m and m.group(2) == b"1" and m.group(3) is None and b"tok/s" not in out.stderr,
      f"-n 1 gives no rate: {describe(out)}")

# What runs: the model line against `llcuda inspect`.
out = gen("-n", "1", "-t", "1", "-c", "512")
info = run(llcuda, ["inspect", SMOLLM2]).stdout.decode()
name = re.search(r"  name +(.+)", info).group(1)
arch = re.search(r"  architecture +(.+)", info).group(1)
ftype = re.search(r"  file type +(.+) \(\d+\)", info).group(1)
trained = re.search(r"  context length +(\d+)", info).group(1)
line = out.stderr.decode().splitlines()[0] if out.stderr else ""
check(out.returncode == 0 and line.startswith(f"llcuda: {name} ({arch}, {ftype}, ") and f"context 512 (trained {trained})" in line
      and re.search(r" on (cpu, .*1 threads|cuda \(.+\))", line), f"model line {line!r} (inspect: {name}, {arch}, {ftype})")

# A long prompt gets a progress line; a short one and -q do not.
long_prompt = "The quick brown fox jumps over the lazy dog. " * 30
out = run(llcuda, ["run", "-m", SMOLLM2, "-p", long_prompt, "-n", "1", "--greedy"])
check(out.returncode == 0 and re.search(rb"processing the prompt \(\d+ tokens\)", out.stderr), f"long prompt: {describe(out)}")
out = gen("-n", "1", "--greedy")
check(out.returncode == 0 and b"processing the prompt" not in out.stderr, f"short prompt: {describe(out)}")
out = run(llcuda, ["run", "-m", SMOLLM2, "-p", long_prompt, "-n", "1", "--greedy", "-q"])
check(out.returncode == 0 and out.stderr == b"", f"-q: {describe(out)}")
check.finish()
