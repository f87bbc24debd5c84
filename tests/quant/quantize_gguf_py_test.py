#!/usr/bin/env python3
"""`llcuda quantize` output read by the gguf package (llama.cpp's own reader): SmolLM2 re-quantized
to Q8_0 and Q4_K_M; every tensor readable and decodable by gguf.quants.dequantize, metadata kept,
general.file_type set, and each tensor close to the original (relative RMS error bounded by the
type's precision). Usage: quantize_gguf_py_test.py PATH/TO/llcuda"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from checks import Checks  # noqa: E402

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize

llcuda = sys.argv[1]
model = Path(os.environ.get("LLCUDA_MODEL_CACHE", Path.home() / ".cache/llcuda/models")) / "SmolLM2-135M-Instruct.Q4_1.gguf"
check = Checks()
if not model.exists():
    check.missing_model(model)
    check.finish()


src = GGUFReader(model)
original = {t.name: dequantize(t.data, t.tensor_type).astype(np.float32) for t in src.tensors}
for preset, file_type, bound in (("Q8_0", 7, 0.02), ("Q4_K_M", 15, 0.15)):
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "out.gguf"
        run = subprocess.run([llcuda, "quantize", str(model), str(out), preset, "--allow-requantize", "--threads", "2"],
                             capture_output=True, text=True)
        check(run.returncode == 0, f"{preset}: exit {run.returncode} {run.stderr[-400:]}")
        if run.returncode != 0:
            continue
        r = GGUFReader(out)
        check(int(r.fields["general.file_type"].parts[-1][0]) == file_type, f"{preset}: general.file_type")
        keys_in = [k for k in src.fields if not k.startswith("GGUF.") and k != "general.file_type"]
        check(all(k in r.fields for k in keys_in), f"{preset}: metadata keys lost")
        # llama-quantize orders tensors by layer; the set of tensors must be the same.
        check(sorted(t.name for t in r.tensors) == sorted(t.name for t in src.tensors), f"{preset}: tensor set differs")
        worst = 0.0
        for t in r.tensors:
            values = dequantize(t.data, t.tensor_type).astype(np.float32)
            ref = original[t.name]
            check(values.shape == ref.shape, f"{preset} {t.name}: shape {values.shape} vs {ref.shape}")
            rel = float(np.sqrt(np.mean((values - ref) ** 2)) / (np.sqrt(np.mean(ref ** 2)) + 1e-12))
            worst = max(worst, rel)
        check(worst < bound, f"{preset}: worst relative RMS error {worst:.4f} >= {bound}")
        print(f"{preset}: {len(r.tensors)} tensors read by gguf, worst relative RMS error {worst:.4f}")
check.finish()
