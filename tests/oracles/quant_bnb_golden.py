#!/usr/bin/env python3
"""Generate tests/golden/quant/bnb4_*.lqg from bitsandbytes (CPU) for NF4/FP4.

For each case: the float32 input, bitsandbytes.functional.quantize_4bit's packed bytes and absmax
(or, with compress_statistics, the absmax codes, nested absmax, offset and the dynamic map), and
dequantize_4bit's float32 output.

Needs torch + bitsandbytes (not in the default environment): e.g.
  python3 -m venv --system-site-packages /tmp/quant-venv && /tmp/quant-venv/bin/pip install torch bitsandbytes
  /tmp/quant-venv/bin/python tests/oracles/quant_bnb_golden.py
"""
import os
import sys

import numpy as np
import torch
import bitsandbytes
import bitsandbytes.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quant_golden_io import write_records  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "golden", "quant")
rng = np.random.default_rng(4242)


def make_input(n):
    x = rng.standard_normal(n).astype(np.float32) * 0.05
    x[:64] = 0.0                                           # an all-zero first block
    x[64:128] = rng.standard_normal(64) * 1e-7             # tiny values
    x[128:192] = np.linspace(-1, 1, 64)                    # a ramp through every level
    x[200] = 3.0                                           # an outlier
    return x


def case(records, tag, quant_type, blocksize, n, double_quant):
    x = make_input(n)
    packed, st = F.quantize_4bit(torch.from_numpy(x), blocksize=blocksize, quant_type=quant_type,
                                 compress_statistics=double_quant)
    deq = F.dequantize_4bit(packed, st).float().numpy().ravel()
    meta = [0 if quant_type == "nf4" else 1, blocksize, n, int(double_quant)]
    records.append((f"{tag}/input", meta, np.zeros(0, np.uint8), x))
    records.append((f"{tag}/packed", meta, packed.numpy().ravel(), np.zeros(0, np.float32)))
    if double_quant:
        records.append((f"{tag}/absmax_codes", meta, st.absmax.numpy().ravel(), np.zeros(0, np.float32)))
        records.append((f"{tag}/nested_absmax", meta, np.zeros(0, np.uint8), st.state2.absmax.numpy()))
        records.append((f"{tag}/offset", meta, np.zeros(0, np.uint8), np.array([float(st.offset)], np.float32)))
        records.append((f"{tag}/nested_map", meta, np.zeros(0, np.uint8), st.state2.code.numpy()))
    else:
        records.append((f"{tag}/absmax", meta, np.zeros(0, np.uint8), st.absmax.numpy()))
    records.append((f"{tag}/dequant", meta, np.zeros(0, np.uint8), deq))
    print(f"{tag}: n={n} blocksize={blocksize} double_quant={double_quant}")


if __name__ == "__main__":
    print("bitsandbytes", bitsandbytes.__version__, "torch", torch.__version__)
    for qt in ("nf4", "fp4"):
        records = []
        case(records, f"{qt}_bs64_odd", qt, 64, 64 * 37 + 5, False)
        case(records, f"{qt}_bs128", qt, 128, 128 * 20, False)
        case(records, f"{qt}_bs4096", qt, 4096, 4096 * 2 + 300, False)
        case(records, f"{qt}_bs64_dq", qt, 64, 64 * 300 + 10, True)
        case(records, f"{qt}_bs256_dq", qt, 256, 256 * 270, True)
        write_records(os.path.join(OUT, f"bnb4_{qt}.lqg"), records)
