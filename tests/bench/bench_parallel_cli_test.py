"""`llcuda bench --parallel` (llama-batched-bench's rows) on the tiny bench model, CPU backend.

Checks that each requested sequence count gives one row with the right name and token counts,
positive rates, S_TG consistent with the mean step time (N tokens per step), no ceiling on the CPU,
the `-np` alias and the table form, and clear errors for bad counts. Whether the batched greedy
tokens equal each sequence run alone is checked through the C++ API (bench_parallel_test.cpp).

Usage: bench_parallel_cli_test.py PATH/TO/llcuda
"""
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path


def main():
    cli = sys.argv[1]
    failures = []

    def fail(msg):
        failures.append(msg)

    with tempfile.TemporaryDirectory() as tmp:
        model = str(Path(tmp) / "tiny.gguf")
        subprocess.run([cli, "make-bench-model", "--shape", "tiny", "--type", "Q4_K_M", "-o", model],
                       check=True, capture_output=True)
        common = [cli, "bench", "-m", model, "-r", "1", "--backend", "cpu", "-t", "2"]
        base = common + ["-p", "8", "-n", "4"]

        out = subprocess.run(base + ["--parallel", "1,3", "--json"], check=True, capture_output=True, text=True)
        result = json.loads(out.stdout)
        rows = {t["test"]: t for t in result["tests"]}
        if list(rows) != ["pp8+tg4 x1", "pp8+tg4 x3"]:
            fail(f"--json rows {list(rows)}")
        for n in (1, 3):
            t = rows.get(f"pp8+tg4 x{n}")
            if t is None:
                continue
            if (t["n_seq"], t["n_prompt"], t["n_gen"], t["reps"]) != (n, 8, 4, 1):
                fail(f"x{n}: counts {t}")
            if t["prompt_tokens"] != n * 8 or t["generated_tokens"] != n * 4:
                fail(f"x{n}: token counts {t['prompt_tokens']}, {t['generated_tokens']}")
            if not (t["prompt_tokens_per_sec"] > 0 and t["gen_tokens_per_sec"] > 0 and t["step_ms"] > 0):
                fail(f"x{n}: rates and step time must be positive: {t}")
            if len(t["prompt_samples"]) != 1 or len(t["gen_samples"]) != 1 or len(t["step_ms_samples"]) != 1:
                fail(f"x{n}: one sample per repetition expected: {t}")
            # A step advances all n sequences: S_TG = n / step time.
            if not math.isclose(t["gen_tokens_per_sec"] * t["step_ms"] / 1000.0, n, rel_tol=1e-9):
                fail(f"x{n}: S_TG {t['gen_tokens_per_sec']} and step {t['step_ms']} ms disagree")
            if t["gen_ceiling_tokens_per_sec"] is not None or t["prompt_percent_of_ceiling"] is not None:
                fail(f"x{n}: a CPU run has no ceiling: {t}")
        if result["device"] is not None or result["model"]["backend"] != "cpu":
            fail("--json: a CPU run must report no device")

        table = subprocess.run(base + ["-np", "2"], check=True, capture_output=True, text=True).stdout
        lines = [line for line in table.splitlines() if line.startswith("| tiny")]
        if len(lines) != 1 or "| pp8+tg4 x2 |" not in lines[0]:
            fail(f"-np 2 table rows: {lines}")

        for args, needle in ((["-p", "8", "--parallel", "0"], "--parallel"), (["--parallel", "2", "-p", "0"], "-p"),
                             (["--parallel", "2", "-p", "8", "-d", "4"], "-d")):
            bad = subprocess.run(common + args, capture_output=True, text=True)
            if bad.returncode == 0 or needle not in bad.stderr:
                fail(f"{args} must fail naming {needle} (rc {bad.returncode}: {bad.stderr.strip()})")

    for f in failures:
        print("FAIL", f)
    print(f"bench --parallel: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
