#!/usr/bin/env python3
"""llama.cpp's flag names on `llcuda run` and `llcuda chat` (docs/cli.md): every alias parses and
reaches the same setting as our name for it (the text, the statistics line, the model line or the
engine's own range check show it); flags accepted but not honoured say so in one line; the
constrained-output flags (--grammar, --grammar-file, -j, -jf) reach the engine's SamplingParams.
Usage: flags_cli_test.py PATH/TO/llcuda REPO_ROOT PATH/TO/engine_reference"""
import json
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from checks import Checks  # noqa: E402
from cli_support import SMOLLM2, describe, require_models, run  # noqa: E402

llcuda, root, reference = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
check = Checks()
require_models(check, SMOLLM2)
PROMPT = "The capital of France is"
STATS = re.compile(r"\[(?:cpu|cuda): (\d+) prompt tokens in .* ms, (\d+) generated(?: at .* tok/s)?, finish: (\w+)\]")
MODEL_LINE = re.compile(r"llcuda: .* on (cpu|cuda)(?: \(.*\))?, context (\d+) \(trained \d+\), (?:(\d+) threads, )?seed (\d+)")


def gen(*flags, stdin=None, command="run"):
    """Runs `llcuda run -m SMOLLM2 -p PROMPT flags...`: (exit code, stdout text, stderr text)."""
    args = [command, "-m", SMOLLM2] + (["-p", PROMPT] if command == "run" and "-f" not in flags else []) + list(flags)
    out = run(llcuda, args, stdin=stdin)
    return out.returncode, out.stdout.decode("utf-8", "replace"), out.stderr.decode("utf-8", "replace")


def stats(err):
    m = STATS.search(err)
    return (int(m.group(2)), m.group(3)) if m else (None, None)


def model_line(err):
    m = MODEL_LINE.search(err)
    return m.groups() if m else (None, None, None, None)


greedy = gen("--greedy", "-n", "8")
check(greedy[0] == 0, f"--greedy -n 8: exit {greedy[0]} {greedy[2][-300:]!r}")

# -n / --n-predict / --max-tokens: the number generated.
for flag in ("-n", "--n-predict", "--max-tokens"):
    code, text, err = gen("--greedy", "--ignore-eos", flag, "5")
    check(code == 0 and stats(err) == (5, "length"), f"{flag} 5: exit {code}, stats {stats(err)} {err[-200:]!r}")
# -n -1: until the context is full.
code, text, err = gen("--greedy", "--ignore-eos", "-n", "-1", "-c", "24")
check(code == 0 and stats(err)[1] == "context_full", f"-n -1 -c 24: {stats(err)} {err[-200:]!r}")

# -c / --ctx-size / --ctx and -t / --threads: the model line.
for flag in ("-c", "--ctx-size", "--ctx"):
    code, _, err = gen("--greedy", "-n", "1", flag, "256")
    check(code == 0 and model_line(err)[1] == "256", f"{flag} 256: model line {model_line(err)} {err[-200:]!r}")
for flag in ("-t", "--threads"):
    code, text, err = gen("--greedy", "-n", "8", flag, "1")
    backend, _, threads, _ = model_line(err)
    check(code == 0 and text == greedy[1] and (threads == "1" or backend == "cuda"), f"{flag} 1: {model_line(err)}")

# -s / --seed: the same sampled text; -1 draws a seed, printed on the model line, that repeats the run.
sampled = {flag: gen("--temp", "1.0", flag, "1234", "-n", "16") for flag in ("-s", "--seed")}
check(all(r[0] == 0 and model_line(r[2])[3] == "1234" for r in sampled.values()) and
      sampled["-s"][1] == sampled["--seed"][1], f"-s / --seed 1234: {[(r[1], model_line(r[2])) for r in sampled.values()]}")
code, text, err = gen("--temp", "1.0", "-s", "-1", "-n", "16")
seed = model_line(err)[3]
again = gen("--temp", "1.0", "-s", seed or "0", "-n", "16")
check(code == 0 and seed is not None and again[1] == text, f"-s -1 printed seed {seed}: {text!r} then {again[1]!r}")

# The sampling flags reach the engine: each out-of-range value is refused by the engine's own check
# (sampling.h validate), which names the field.
for flag, value, field in (("--temp", "-1", "temperature"), ("--top-p", "1.5", "top_p"), ("--min-p", "2", "min_p"),
                           ("--repeat-penalty", "0", "repetition_penalty"), ("--repeat-last-n", "-5", "penalty_last_n"),
                           ("--presence-penalty", "nan", "presence_penalty"),
                           ("--frequency-penalty", "inf", "frequency_penalty"), ("--typical", "0", "typical_p")):
    code, _, err = gen(flag, value)
    check(code == 1 and f"sampling parameter {field} = " in err, f"{flag} {value}: exit {code} {err[-200:]!r}")
# ... and neutral values give the greedy text (--top-k 1 alone makes any temperature greedy).
code, text, err = gen("--temp", "0.7", "--top-k", "1", "--top-p", "0.9", "--min-p", "0.05", "--repeat-penalty", "1.0",
                      "--repeat-last-n", "32", "--presence-penalty", "0", "--frequency-penalty", "0", "-n", "8")
check(code == 0 and text == greedy[1], f"--top-k 1 and neutral penalties: {text!r} != {greedy[1]!r}")

# -r / --reverse-prompt: a stop string, as --stop.
stop = gen("--greedy", "-n", "16", "--stop", ".")
for flag in ("-r", "--reverse-prompt"):
    code, text, err = gen("--greedy", "-n", "16", flag, ".")
    check(code == 0 and text == stop[1] and stats(err)[1] == "stop_string", f"{flag} .: {text!r} {stats(err)}")

# -e / --escape (the default, as in llama.cpp) turns \n in -p into a newline; --no-escape keeps it.
for flags, want in ((["-e"], "A\nB"), ([], "A\nB"), (["--no-escape"], "A\\nB")):
    out = run(llcuda, ["run", "-m", SMOLLM2, "-p", "A\\nB", "--greedy", "-n", "1", "-q"] + flags)
    check(out.returncode == 0 and out.stdout.decode().startswith(want), f"{flags}: {out.stdout!r}")

# -i / -cnv / --conversation: `run` becomes a chat, -p its first message; -sys / --system-prompt.
question = "What is the capital of France?"
ref = run(reference, ["chat", SMOLLM2, "8", question])
want = json.loads(ref.stdout)["replies"][0] if ref.returncode == 0 else None
for flag in ("-i", "-cnv", "--conversation"):
    out = run(llcuda, ["run", "-m", SMOLLM2, flag, "--greedy", "-n", "8", "-q"], stdin=f"{question}\n".encode())
    check(out.returncode == 0 and out.stdout.decode() == f"> {want}\n> \n", f"run {flag}: {describe(out)} {out.stdout!r}")
out = run(llcuda, ["run", "-m", SMOLLM2, "-cnv", "-p", question, "--greedy", "-n", "8", "-q"], stdin=b"")
check(out.returncode == 0 and out.stdout.decode() == f"> {question}\n{want}\n> \n", f"run -cnv -p: {out.stdout!r}")
system = "You answer in exactly one word."
ref = run(reference, ["chat", SMOLLM2, "8", "--system", system, question])
want_sys = json.loads(ref.stdout)["replies"][0] if ref.returncode == 0 else None
for flag in ("-sys", "--system-prompt"):
    out = run(llcuda, ["run", "-m", SMOLLM2, "--chat", flag, system, "-p", question, "--greedy", "-n", "8", "-q"])
    check(out.returncode == 0 and out.stdout.decode() == want_sys + "\n", f"run --chat {flag}: {out.stdout!r} != {want_sys!r}")

# -ngl / --n-gpu-layers: 0 is the CPU; a number or "all" the GPU when there is one (all layers:
# fewer says so); -ngl 0 with --backend cuda is a contradiction.
code, text, err = gen("--greedy", "-n", "8", "-ngl", "0")
check(code == 0 and text == greedy[1] and model_line(err)[0] == "cpu", f"-ngl 0: {model_line(err)} {err[-200:]!r}")
for flags in (["-ngl", "99"], ["--n-gpu-layers", "all"]):
    code, text, err = gen("--greedy", "-n", "8", *flags)
    check(code == 0 and text == greedy[1] and "warning" not in err, f"{flags}: exit {code} {err[-200:]!r}")
code, _, err = gen("--greedy", "-n", "1", "-ngl", "5")
check(code == 0 and "-ngl 5 is taken as all 30 layers" in err, f"-ngl 5: {err[-300:]!r}")
code, _, err = gen("-ngl", "0", "--backend", "cuda")
check(code == 1 and "-ngl 0" in err, f"-ngl 0 --backend cuda: exit {code} {err[-200:]!r}")
code, _, err = gen("-ngl", "lots")
check(code == 1 and "-ngl/--n-gpu-layers lots" in err, f"-ngl lots: exit {code} {err[-200:]!r}")

# Accepted but not honoured: -fa says so in one line; -b / -ub set the prompt batch (the text is the
# same); --no-warmup is accepted (llcuda does no warm-up).
for flags, noted in ((["-fa"], True), (["-fa", "on"], True), (["--flash-attn", "off"], True), (["-fa", "auto"], False),
                     (["-b", "4"], False), (["-ub", "3"], False), (["--batch-size", "8", "--ubatch-size", "2"], False),
                     (["--no-warmup"], False)):
    code, text, err = gen("--greedy", "-n", "8", *flags)
    notes = [line for line in err.splitlines() if line.startswith("llcuda: note:")]
    check(code == 0 and text == greedy[1] and len(notes) == (1 if noted else 0), f"{flags}: exit {code} notes {notes}")
code, _, err = gen("-fa", "maybe")
check(code == 1 and "-fa/--flash-attn maybe" in err, f"-fa maybe: {err[-200:]!r}")

# --verbose-prompt: the prompt's tokens, as many as the statistics count.
code, _, err = gen("--greedy", "-n", "1", "--verbose-prompt")
m = re.search(r"prompt: (\d+) tokens\n((?: +\d+ -> '.*'\n)+)", err)
n_prompt = int(STATS.search(err).group(1)) if STATS.search(err) else None
check(code == 0 and m is not None and int(m.group(1)) == n_prompt == len(m.group(2).splitlines()),
      f"--verbose-prompt: {err[-400:]!r}")

# Constrained output: the grammar / schema reaches the engine, which either follows it or says why it
# cannot (never ignored silently). Either flag of a pair, not both.
with tempfile.TemporaryDirectory() as d:
    grammar = Path(d) / "yesno.gbnf"
    grammar.write_text('root ::= "yes" | "no"\n')
    schema = Path(d) / "bool.json"
    schema.write_text('{"type": "boolean"}')
    for flags, answers in ((["--grammar-file", grammar], ("yes", "no")), (["--grammar", grammar.read_text()], ("yes", "no")),
                           (["--json-schema-file", schema], ("true", "false")), (["-jf", schema], ("true", "false")),
                           (["-j", schema.read_text()], ("true", "false"))):
        code, text, err = gen("--greedy", "-n", "8", "-q", *flags)
        ok = (code == 0 and text[len(PROMPT):-1].strip() in answers)  # JSON may end in blanks or (code == 1 and ("grammar" in err or "schema" in err))
        check(ok, f"{flags}: exit {code} text {text!r} {err[-200:]!r}")
    code, _, err = gen("--grammar-file", grammar, "--json-schema-file", schema)
    check(code == 1 and "not both" in err, f"grammar and schema: {err[-200:]!r}")
    code, _, err = gen("--grammar-file", Path(d) / "missing.gbnf")
    check(code == 1 and "missing.gbnf" in err, f"missing grammar file: {err[-200:]!r}")

# chat takes the same flags.
out = run(llcuda, ["chat", "-m", SMOLLM2, "-ngl", "0", "-cnv", "-c", "256", "-s", "5", "--n-predict", "8", "-t", "1",
                   "-fa", "-b", "64", "-ub", "32", "--no-warmup", "-sys", system, "--temp", "0", "--top-k", "40",
                   "--repeat-penalty", "1.1", "-r", "User:", "--ignore-eos"], stdin=b"")
check(out.returncode == 0 and b"context 256" in out.stderr, f"chat with llama.cpp's flags: {describe(out)}")
check.finish()
