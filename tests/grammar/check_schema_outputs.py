"""Constrained generations against the Python `jsonschema` package (an implementation we did not
write): for each schema in tests/grammar/schemas/, grammar_sample writes generations and every
finished one must parse as JSON and validate, with formats checked (date, date-time, uuid).

  check_schema_outputs.py GRAMMAR_SAMPLE random   -> 200 random-logit walks per schema (Qwen3 vocabulary)
  check_schema_outputs.py GRAMMAR_SAMPLE model    -> samples of SmolLM2-135M at temperature 1

Model runs: LLCUDA_GRAMMAR_MODEL_SAMPLES samples per schema (4 on the CPU in CI),
LLCUDA_GRAMMAR_MODEL_BACKEND cpu|cuda, LLCUDA_GRAMMAR_MODEL_MAX_TOKENS (300) and
LLCUDA_GRAMMAR_MODEL_MIN_FINISHED, the fraction that must end within them (one generation by default).
`bash scripts/gpu-test.sh grammar` runs 200 per schema on the GPU.

Random walks reach corners a model rarely visits (empty arrays, optional fields left out, deep
anyOf nesting, every enum member); the model run shows the grammar steering a real model.
"""
import json
import os
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from checks import Checks  # noqa: E402

import jsonschema  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
SCHEMAS = sorted((HERE / "schemas").glob("*.json"))


def model_path():
    cache = os.environ.get("LLCUDA_MODEL_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "llcuda", "models")
    return pathlib.Path(cache) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def run(tool, mode, source, schema, n, max_tokens, backend=None):
    out = subprocess.run([tool, mode, str(source), str(schema), str(n), str(max_tokens)] + ([backend] if backend else []),
                         capture_output=True, text=True, timeout=1500)
    if out.returncode != 0:
        return None, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()], ""


def main():
    tool, mode = sys.argv[1], sys.argv[2]
    check = Checks()
    if mode == "random":
        source = pathlib.Path(os.environ["LLCUDA_TEST_DATA"]) / "tokenizers" / "qwen3" / "tokenizer.json"
        if not source.exists():
            check.missing_data(source)
            check.finish()
        n, max_tokens, min_finished = 200, 300, 0.3
    else:
        source = model_path()
        if not source.exists():
            check.missing_model(source)
            check.finish()
        # CPU time: a few samples per schema; free-form objects may run to the limit, so one finished
        # generation per schema is required and every finished one must validate.
        n = int(os.environ.get("LLCUDA_GRAMMAR_MODEL_SAMPLES", "4"))
        max_tokens = int(os.environ.get("LLCUDA_GRAMMAR_MODEL_MAX_TOKENS", "300"))
        min_finished = float(os.environ.get("LLCUDA_GRAMMAR_MODEL_MIN_FINISHED", str(1 / n)))
        backend = os.environ.get("LLCUDA_GRAMMAR_MODEL_BACKEND", "cpu")
    for schema_file in SCHEMAS:
        schema = json.loads(schema_file.read_text())
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        samples, err = run(tool, mode, source, schema_file, n, max_tokens, backend if mode == "model" else None)
        check(samples is not None, f"{schema_file.name}: grammar_sample failed: {err}")
        if samples is None:
            continue
        finished = [s for s in samples if s["finish"] == "stop"]
        check(len(finished) >= min_finished * n,
              f"{schema_file.name}: only {len(finished)} of {n} generations finished within {max_tokens} tokens")
        bad = []
        for s in finished:
            try:
                validator.validate(json.loads(s["text"]))
            except (json.JSONDecodeError, jsonschema.ValidationError) as e:
                bad.append((s["seed"], s["text"], str(e).splitlines()[0]))
        for seed, text, why in bad[:5]:
            print(f"  {schema_file.name} seed {seed}: {why}\n    {text!r}")
        check(not bad, f"{schema_file.name}: {len(bad)} of {len(finished)} finished {mode} generations do not validate")
        print(f"{schema_file.name}: {len(finished)} of {n} finished, all validated" if not bad else "")
    check.finish()


if __name__ == "__main__":
    main()
