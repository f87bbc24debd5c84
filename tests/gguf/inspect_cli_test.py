#!/usr/bin/env python3
"""`llcuda inspect --json` on the real models agrees with the gguf package's golden files (tensor
names, types, shapes, bytes, parameter totals), and bad files give a clear message and exit 1.

Usage: inspect_cli_test.py PATH/TO/llcuda GOLDEN_DIR
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from checks import Checks  # noqa: E402

import numpy as np

GGML_NAMES = {0: "f32", 1: "f16", 2: "q4_0", 3: "q4_1", 6: "q5_0", 7: "q5_1", 8: "q8_0", 10: "q2_K",
              11: "q3_K", 12: "q4_K", 13: "q5_K", 14: "q6_K", 30: "bf16"}
MODELS = {"smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf", "gemma3": "gemma-3-270m-q4_k_m.gguf"}


def main():
    llcuda, golden_dir = sys.argv[1], Path(sys.argv[2])
    cache = Path(os.environ.get("LLCUDA_MODEL_CACHE", Path.home() / ".cache/llcuda/models"))
    check = Checks()

    for label, filename in MODELS.items():
        path = cache / filename
        if not path.exists():
            check.missing_model(path)
            continue
        golden = json.loads((golden_dir / f"{label}.json").read_text())
        out = subprocess.run([llcuda, "inspect", "--json", str(path)], capture_output=True, text=True)
        check(out.returncode == 0, f"inspect {label} exit {out.returncode}: {out.stderr}")
        report = json.loads(out.stdout)
        tensors = [(t["name"], GGML_NAMES.get(t["type"]), t["ne"], t["n_bytes"]) for t in golden["tensors"]]
        ours = [(t["name"], t["type"], t["shape"], t["bytes"]) for t in report["tensors"]]
        check(ours == tensors, f"{label}: tensor table differs from the gguf package's")
        n_params = sum(int(np.prod(t["ne"])) for t in golden["tensors"])
        check(report["totals"]["parameters"] == n_params, f"{label}: parameters {report['totals']['parameters']} != {n_params}")
        check([m["key"] for m in report["metadata"]] == [m["key"] for m in golden["metadata"]], f"{label}: keys differ")
        text = subprocess.run([llcuda, "inspect", str(path)], capture_output=True, text=True)
        check(text.returncode == 0 and "architecture" in text.stdout, f"{label}: text inspect failed")

    with tempfile.TemporaryDirectory() as d:
        bad = Path(d) / "bad.gguf"
        bad.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 20)
        out = subprocess.run([llcuda, "inspect", str(bad)], capture_output=True, text=True)
        check(out.returncode == 1 and "bad.gguf" in out.stderr and "offset" in out.stderr,
              f"malformed file: exit {out.returncode}, stderr {out.stderr!r}")
        out = subprocess.run([llcuda, "inspect", str(Path(d) / "missing.gguf")], capture_output=True, text=True)
        check(out.returncode == 1 and "missing.gguf" in out.stderr, f"missing file: {out.stderr!r}")
    check.finish()


if __name__ == "__main__":
    main()
