"""`llcuda bench --parallel` (llama-batched-bench's rows) on the tiny bench model, CPU backend.

Checks that each requested sequence count gives one row with the right name and token counts,
positive rates, S_TG consistent with the mean step time (N tokens per step), no ceiling on the CPU,
the `-np` alias and the table form, and clear errors for bad counts and for --f16-weights (GPU
copies) on the CPU. Whether the batched greedy
tokens equal each sequence run alone is checked through the C++ API (bench_parallel_test.cpp).

Usage: bench_parallel_cli_test.py PATH/TO/llcuda
"""
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from checks import Checks  # noqa: E402


def main():
    cli = sys.argv[1]
    check = Checks()

    with tempfile.TemporaryDirectory() as tmp:
        model = str(Path(tmp) / "tiny.gguf")
        subprocess.run([cli, "make-bench-model", "--shape", "tiny", "--type", "Q4_K_M", "-o", model],
                       check=True, capture_output=True)
        common = [cli, "bench", "-m", model, "-r", "1", "--backend", "cpu", "-t", "2"]
        base = common + ["-p", "8", "-n", "4"]

        out = subprocess.run(base + ["--parallel", "1,3", "--json"], check=True, capture_output=True, text=True)
        result = json.loads(out.stdout)
        rows = {t["test"]: t for t in result["tests"]}
        check(list(rows) == ["pp8+tg4 x1", "pp8+tg4 x3"], f"--json rows {list(rows)}")
        for n in (1, 3):
            t = rows.get(f"pp8+tg4 x{n}")
            if t is None:
                continue
            check((t["n_seq"], t["n_prompt"], t["n_gen"], t["reps"]) == (n, 8, 4, 1), f"x{n}: counts {t}")
            check(t["prompt_tokens"] == n * 8 and t["generated_tokens"] == n * 4,
                  f"x{n}: token counts {t['prompt_tokens']}, {t['generated_tokens']}")
            check(t["prompt_tokens_per_sec"] > 0 and t["gen_tokens_per_sec"] > 0 and t["step_ms"] > 0,
                  f"x{n}: rates and step time must be positive: {t}")
            check(len(t["prompt_samples"]) == 1 and len(t["gen_samples"]) == 1 and len(t["step_ms_samples"]) == 1,
                  f"x{n}: one sample per repetition expected: {t}")
            # A step advances all n sequences: S_TG = n / step time.
            check(math.isclose(t["gen_tokens_per_sec"] * t["step_ms"] / 1000.0, n, rel_tol=1e-9),
                  f"x{n}: S_TG {t['gen_tokens_per_sec']} and step {t['step_ms']} ms disagree")
            check(t["gen_ceiling_tokens_per_sec"] is None and t["prompt_percent_of_ceiling"] is None,
                  f"x{n}: a CPU run has no ceiling: {t}")
        check(result["device"] is None and result["model"]["backend"] == "cpu", "--json: a CPU run must report no device")

        table = subprocess.run(base + ["-np", "2"], check=True, capture_output=True, text=True).stdout
        lines = [line for line in table.splitlines() if line.startswith("| tiny")]
        check(len(lines) == 1 and "| pp8+tg4 x2 |" in lines[0], f"-np 2 table rows: {lines}")

        for args, needle in ((["-p", "8", "--parallel", "0"], "--parallel"), (["--parallel", "2", "-p", "0"], "-p"),
                             (["--parallel", "2", "-p", "8", "-d", "4"], "-d"),
                             (["-p", "8", "-n", "4", "--f16-weights"], "--f16-weights")):
            bad = subprocess.run(common + args, capture_output=True, text=True)
            check(bad.returncode != 0 and needle in bad.stderr,
                  f"{args} must fail naming {needle} (rc {bad.returncode}: {bad.stderr.strip()})")
    check.finish()


if __name__ == "__main__":
    main()
