#!/usr/bin/env python3
"""Generate tests/golden/quant/*.lqg from oracles we did not write.

* dequant_<type>.lqg: random blocks of every ggml type (fixed seed) and the float32 values that
  the `gguf` package's numpy dequantizer (gguf.quants.dequantize, llama.cpp's gguf-py) returns.
  Plain integer/f64 types use numpy's astype(float32). Q8_1, Q8_K, Q1_0 and Q2_0 have no decoder
  in gguf 0.19; for them a direct numpy transcription of ggml's block layouts (ggml-common.h;
  summarized in docs/block-formats.md) is the oracle (marked
  "spec" in the record name).
* quantize_<type>.lqg: float32 rows (Gaussian, plus edge cases) and the bytes that
  gguf.quants.quantize (numpy ports of ggml's reference quantizers) produces.
* model_<name>.lqg: for a few tensors of the real models, expected dequantized rows and a bit
  checksum of the whole dequantized tensor (from gguf.GGUFReader + gguf.quants.dequantize).

Usage: python3 tests/oracles/quant_golden.py   (from anywhere; needs numpy and gguf)
"""
import os
import sys

import numpy as np
from gguf import GGUFReader, GGMLQuantizationType as Q, GGML_QUANT_SIZES
from gguf import quants

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quant_golden_io import write_records, bit_checksum, byte_checksum  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "golden", "quant")
MODELS = os.environ.get("LLCUDA_MODEL_CACHE", os.path.expanduser("~/.cache/llcuda/models"))
rng = np.random.default_rng(20261122)

# f16 scale fields (byte offsets inside a block) that random bytes must not turn into inf/NaN.
F16_FIELDS = {
    Q.Q4_0: [0], Q.Q4_1: [0, 2], Q.Q5_0: [0], Q.Q5_1: [0, 2], Q.Q8_0: [0], Q.Q8_1: [0, 2],
    Q.IQ4_NL: [0], Q.Q1_0: [0], Q.Q2_K: [80, 82], Q.Q3_K: [108], Q.Q4_K: [0, 2],
    Q.Q5_K: [0, 2], Q.Q6_K: [208], Q.TQ1_0: [52], Q.TQ2_0: [64], Q.IQ2_XXS: [0], Q.IQ2_XS: [0],
    Q.IQ2_S: [0], Q.IQ3_XXS: [0], Q.IQ3_S: [0], Q.IQ1_S: [0], Q.IQ4_XS: [0],
}


def random_f16(n):
    return (rng.standard_normal(n) * 0.02).astype(np.float16).view(np.uint16)


def block_geometry(qtype):
    # gguf 0.19 still lists Q8_1 with the old f32 d/s layout (40 bytes); ggml's is 2 x f16 (36).
    return (32, 36) if qtype == Q.Q8_1 else GGML_QUANT_SIZES[qtype]


def random_blocks(qtype, n_blocks):
    block, size = block_geometry(qtype)
    b = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    for off in F16_FIELDS.get(qtype, []):
        b[:, off:off + 2] = random_f16(n_blocks).view(np.uint8).reshape(n_blocks, 2)
    if qtype == Q.MXFP4:
        b[:, 0] = rng.integers(100, 155, size=n_blocks)
        b[0, 0], b[1, 0] = 0, 1  # the two subnormal-pattern exponents
    if qtype == Q.NVFP4:
        b[:, 0:4] = rng.integers(0, 0x80, size=(n_blocks, 4))
        b[0, 0:4] = [0x00, 0x7F, 0x01, 0x08]  # zero, the NaN-like 0x7F, subnormal, smallest normal
    if qtype == Q.Q8_K:
        b[:, 0:4] = (rng.standard_normal((n_blocks, 1)) * 0.01).astype(np.float32).view(np.uint8)
    if qtype == Q.IQ1_M:  # d = top nibble of each of the 4 u16 scale words (offset 48)
        d = random_f16(n_blocks)
        sc = b[:, 48:56].copy().view(np.uint16)
        for k in range(4):
            sc[:, k] = (sc[:, k] & 0x0FFF) | (((d >> (4 * k)) & 0xF) << 12)
        b[:, 48:56] = sc.view(np.uint8)
    return b


# --- spec oracles for the types gguf 0.19 cannot decode (ggml-common.h layouts, docs/block-formats.md §32-element types .. §K-quants) ---
def spec_q8_1(b):
    d = b[:, 0:2].copy().view(np.float16).astype(np.float32)
    return b[:, 4:36].view(np.int8).astype(np.float32) * d


def spec_q8_k(b):
    d = b[:, 0:4].copy().view(np.float32)
    return d * b[:, 4:260].view(np.int8).astype(np.float32)


def spec_q1_0(b):
    d = b[:, 0:2].copy().view(np.float16).astype(np.float32)
    bits = np.unpackbits(b[:, 2:18], axis=1, bitorder="little").astype(bool)
    return np.where(bits, d, -d).astype(np.float32)


def spec_q2_0(b):
    d = b[:, 0:2].copy().view(np.float16).astype(np.float32)
    q = (b[:, 2:18].reshape(-1, 16, 1) >> np.array([0, 2, 4, 6], dtype=np.uint8).reshape(1, 1, 4)) & 3
    return (q.reshape(-1, 64).astype(np.int8) - 1).astype(np.float32) * d


SPEC = {Q.Q8_1: spec_q8_1, Q.Q8_K: spec_q8_k, Q.Q1_0: spec_q1_0}
PLAIN = {Q.F64: np.float64, Q.I8: np.int8, Q.I16: np.int16, Q.I32: np.int32, Q.I64: np.int64}


def dequant_goldens():
    for qtype in Q:
        name = qtype.name
        block, size = GGML_QUANT_SIZES[qtype]
        if qtype in (Q.F32, Q.F16, Q.BF16):
            n = 512
            raw = rng.integers(0, 256, size=n * size, dtype=np.uint8)
            if qtype == Q.F16:  # random halfs plus every special class
                v = np.concatenate([(rng.standard_normal(n - 8) * 4).astype(np.float16),
                                    np.array([0.0, -0.0, np.inf, -np.inf, 6e-8, -3e-5, 65504, np.nan], np.float16)])
                raw = v.view(np.uint8)
            expected = quants.dequantize(raw.view(np.uint8), qtype) if qtype != Q.F32 else raw.view(np.float32)
            tag = "gguf"
        elif qtype in PLAIN:
            dt = PLAIN[qtype]
            if dt == np.float64:
                v = np.concatenate([rng.standard_normal(500) * 10.0 ** rng.integers(-40, 40, 500),
                                    [1e300, -1e300, 3.4028235677973366e38, 1e-320]])
            else:
                info = np.iinfo(dt)
                v = rng.integers(info.min, info.max, size=504, dtype=dt, endpoint=True)
            v = v.astype(dt)
            raw, expected, tag = v.view(np.uint8), v.astype(np.float32), "numpy"
        elif qtype in SPEC:
            b = random_blocks(qtype, 32)
            raw, expected, tag = b, SPEC[qtype](b), "spec"
        else:
            try:
                b = random_blocks(qtype, 32)
                expected = quants.dequantize(b, qtype)
            except NotImplementedError:
                print(f"skip {name}: no oracle")
                continue
            raw, tag = b, "gguf"
        expected = np.asarray(expected, dtype=np.float32).ravel()
        write_records(os.path.join(OUT, f"dequant_{name.lower()}.lqg"),
                      [(f"{name}/{tag}", [int(qtype), expected.size], raw.ravel(), expected)])
        print(f"dequant {name:8s} {tag:5s} {expected.size} values")
    # Q2_0 (id 42, 64 elements / 18 bytes) is newer than gguf 0.19's enum.
    b = rng.integers(0, 256, size=(32, 18), dtype=np.uint8)
    b[:, 0:2] = random_f16(32).view(np.uint8).reshape(32, 2)
    expected = spec_q2_0(b).ravel()
    write_records(os.path.join(OUT, "dequant_q2_0.lqg"), [("Q2_0/spec", [42, expected.size], b.ravel(), expected)])
    print(f"dequant Q2_0     spec  {expected.size} values")


def quant_inputs(block):
    """16 rows of 256 floats: Gaussian at several scales plus edge cases."""
    rows = [rng.standard_normal(256) * s for s in (1.0, 0.02, 1e-3, 300.0, 1e-6)]
    rows.append(rng.uniform(-1, 1, 256))
    rows.append(np.zeros(256))
    rows.append(np.full(256, 0.5))
    rows.append(np.full(256, -2.0))
    t = np.zeros(256)  # exact ties: halves of the first-block max
    t[:32] = np.linspace(-1, 1, 32)
    t[32:] = rng.standard_normal(224)
    rows.append(t)
    rows.append(np.round(rng.standard_normal(256) * 8) / 8)  # values on a grid (ties likely)
    spikes = rng.standard_normal(256) * 0.01
    spikes[::37] = 5.0
    rows.append(spikes)
    rows.append(np.abs(rng.standard_normal(256)))  # all positive
    rows.append(-np.abs(rng.standard_normal(256)))  # all negative
    rows.append(rng.standard_normal(256) * np.exp(rng.standard_normal(256) * 2))  # heavy tails
    rows.append(rng.standard_normal(256) * 65000.0 / 4)
    return np.stack(rows).astype(np.float32)


def quant_goldens():
    for qtype in (Q.F16, Q.BF16, Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q8_0, Q.TQ1_0, Q.TQ2_0, Q.MXFP4):
        block, size = GGML_QUANT_SIZES[qtype]
        x = quant_inputs(block)
        q = quants.quantize(x, qtype)
        raw = np.ascontiguousarray(q).view(np.uint8).ravel()
        write_records(os.path.join(OUT, f"quantize_{qtype.name.lower()}.lqg"),
                      [(f"{qtype.name}/gguf", [int(qtype), x.shape[1], x.shape[0]], raw, x.ravel())])
        print(f"quantize {qtype.name:6s} {raw.size} bytes")


def model_goldens(file_name, short, picks):
    path = os.path.join(MODELS, file_name)
    if not os.path.exists(path):
        print(f"skip {file_name}: not in {MODELS}")
        return
    reader = GGUFReader(path)
    tensors = {t.name: t for t in reader.tensors}
    records = []
    for name, rows, whole in picks:
        t = tensors[name]
        qtype = t.tensor_type
        ne0 = int(t.shape[0])
        n_rows = int(np.prod([int(s) for s in t.shape[1:]])) if len(t.shape) > 1 else 1
        data = np.asarray(t.data)
        data2 = data.reshape(n_rows, -1) if data.dtype == np.uint8 else data.reshape(n_rows, ne0)
        expected_rows = [np.asarray(quants.dequantize(data2[r:r + 1].copy(), qtype), dtype=np.float32).ravel()
                         for r in rows]
        checksum = 0
        if whole:
            full = np.asarray(quants.dequantize(data2, qtype), dtype=np.float32)
            checksum = bit_checksum(full)
        meta = [int(qtype), ne0, n_rows, int(whole), checksum, len(rows), *rows]
        records.append((name, meta, np.zeros(0, np.uint8), np.concatenate(expected_rows)))
        print(f"model {short}: {name} {qtype.name} rows {rows} checksum {checksum:#x}")
    write_records(os.path.join(OUT, f"model_{short}.lqg"), records)


def requant_goldens():
    """SmolLM2's Q4_1 weights re-quantized by gguf-py (dequantize -> quantize) to Q8_0 and Q4_0:
    byte checksums per tensor, for the `llcuda quantize --allow-requantize` pipeline test."""
    path = os.path.join(MODELS, "SmolLM2-135M-Instruct.Q4_1.gguf")
    if not os.path.exists(path):
        print("skip requant: no SmolLM2")
        return
    reader = GGUFReader(path)
    tensors = {t.name: t for t in reader.tensors}
    records = []
    for qtype in (Q.Q8_0, Q.Q4_0):
        for name in ("blk.0.ffn_down.weight", "blk.7.attn_q.weight", "blk.29.ffn_gate.weight"):
            t = tensors[name]
            n_rows = int(t.shape[1])
            f32 = quants.dequantize(np.asarray(t.data).reshape(n_rows, -1), t.tensor_type)
            q = np.asarray(quants.quantize(f32, qtype))
            records.append((f"{qtype.name}/{name}", [int(qtype), byte_checksum(q), q.size], np.zeros(0, np.uint8),
                            np.zeros(0, np.float32)))
            print(f"requant {qtype.name} {name}: {q.size} bytes")
    write_records(os.path.join(OUT, "requant_smollm2.lqg"), records)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    dequant_goldens()
    quant_goldens()
    model_goldens("SmolLM2-135M-Instruct.Q4_1.gguf", "smollm2", [
        ("token_embd.weight", [0, 1, 12345, 49151], False),
        ("blk.0.ffn_down.weight", [0, 575], True),
        ("blk.0.attn_k.weight", [3], True),
        ("blk.29.ffn_up.weight", [1535], True),
        ("blk.0.attn_norm.weight", [0], True),
    ])
    model_goldens("gemma-3-270m-q4_k_m.gguf", "gemma3", [
        ("token_embd.weight", [0, 2, 262143], False),
        ("blk.0.attn_k.weight", [0, 255], True),
        ("blk.0.attn_output.weight", [0, 639], True),
        ("blk.0.ffn_down.weight", [0, 639], True),
        ("blk.0.attn_v.weight", [7], True),
        ("output_norm.weight", [0], True),
    ])
    requant_goldens()
