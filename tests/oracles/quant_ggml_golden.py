#!/usr/bin/env python3
"""Generate tests/golden/quant/ggml_<type>.lqg: ggml's own quantizer output (ggml_quantize_chunk,
reference build without SIMD/FMA) for the quantizers gguf-py does not have: Q2_K..Q6_K, IQ4_NL,
IQ4_XS, NVFP4, Q1_0, Q2_0, Q8_1 and the importance-matrix variants of Q4_0..Q5_1; plus
Q8_0/MXFP4/TQ1_0/TQ2_0 again. Also ggml_dequant_<type>.lqg: ggml's to_float on random blocks
of Q1_0, Q2_0 and NVFP4 (which gguf 0.19 cannot decode, or only recently could).

Needs a llama.cpp source tree with ggml-base built, e.g. from the llama-cpp-python sdist:
  pip download --no-deps --no-binary :all: llama-cpp-python -d /tmp/llamacpp && tar xzf ...
  cmake -S <llama.cpp> -B /tmp/llamacpp/build -G Ninja -DGGML_NATIVE=OFF -DBUILD_SHARED_LIBS=OFF \\
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DGGML_OPENMP=OFF
  cmake --build /tmp/llamacpp/build --target ggml-base
  LLAMA_CPP=<llama.cpp> LLAMA_BUILD=/tmp/llamacpp/build python3 tests/oracles/quant_ggml_golden.py
GGML_NATIVE=OFF matters: with -march=native the compiler may contract a*b+c into FMAs and the
bytes then depend on the machine.
"""
import os
import struct
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quant_golden_io import write_records, byte_checksum  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "tests", "golden", "quant")
LLAMA = os.environ["LLAMA_CPP"]
BUILD = os.environ["LLAMA_BUILD"]
EXE = os.path.join(BUILD, "quant_ggml_oracle")

TYPES = {"q4_0": 2, "q4_1": 3, "q5_0": 6, "q5_1": 7, "q8_0": 8, "q2_k": 10, "q3_k": 11, "q4_k": 12,
         "q5_k": 13, "q6_k": 14, "iq4_nl": 20, "iq4_xs": 23, "tq1_0": 34, "tq2_0": 35, "mxfp4": 39,
         "nvfp4": 40, "q1_0": 41, "q2_0": 42, "q8_1": 9}
FROM_FLOAT_REF = {"q8_1"}  # not handled by ggml_quantize_chunk (an activation type)
BLOCK = {41: (128, 18), 42: (64, 18), 40: (64, 36)}
USES_IMATRIX = {"q4_0", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "iq4_nl", "iq4_xs"}


def build():
    lib = os.path.join(BUILD, "ggml", "src", "libggml-base.a")
    subprocess.check_call(["cc", "-O2", "-o", EXE, os.path.join(HERE, "quant_ggml_oracle.c"),
                           "-I", os.path.join(LLAMA, "ggml", "include"), lib, "-lstdc++", "-lm", "-lpthread"])


def run(type_id, rows, imatrix, mode=0):
    n_rows, n_per_row = rows.shape
    payload = struct.pack("<5I", mode, type_id, n_rows, n_per_row, 0 if imatrix is None else 1)
    payload += rows.astype(np.float32).tobytes()
    if imatrix is not None:
        payload += imatrix.astype(np.float32).tobytes()
    return np.frombuffer(subprocess.run([EXE], input=payload, capture_output=True, check=True).stdout, np.uint8)


def inputs(rng):
    n = 512
    rows = [rng.standard_normal(n) * s for s in (1.0, 0.02, 1e-3, 300.0)]
    rows += [rng.uniform(-1, 1, n), np.zeros(n), np.full(n, 0.5), np.full(n, -2.0),
             np.abs(rng.standard_normal(n)), -np.abs(rng.standard_normal(n)),
             rng.standard_normal(n) * np.exp(rng.standard_normal(n) * 2),
             np.round(rng.standard_normal(n) * 8) / 8]
    spikes = rng.standard_normal(n) * 0.01
    spikes[::37] = 5.0
    rows.append(spikes)
    half_zero = rng.standard_normal(n)
    half_zero[:300] = 0
    rows.append(half_zero)
    rows += [rng.standard_normal(n) for _ in range(18)]  # plain Gaussian bulk
    return np.stack(rows).astype(np.float32)


def model_imatrix_golden(rng):
    """An importance matrix for two SmolLM2 tensors, written with gguf-py's GGUFWriter in
    llama-imatrix's GGUF layout, and ggml's bytes for those tensors re-quantized with it the way
    `llcuda quantize ... Q4_K_M --imatrix` must: blk.0.ffn_down (use_more_bits -> Q6_K) and
    blk.0.attn_q (576 columns: Q4_K falls back to Q5_0)."""
    import gguf
    from gguf import quants
    path = os.path.join(os.environ.get("LLCUDA_MODEL_CACHE", os.path.expanduser("~/.cache/llcuda/models")),
                        "SmolLM2-135M-Instruct.Q4_1.gguf")
    if not os.path.exists(path):
        print("skip imatrix golden: no SmolLM2")
        return
    tensors = {t.name: t for t in gguf.GGUFReader(path).tensors}
    writer = gguf.GGUFWriter(os.path.join(OUT, "smollm2_imatrix.gguf"), "llama")
    writer.add_string("general.type", "imatrix")
    writer.add_uint32("imatrix.chunk_count", 7)
    writer.add_array("imatrix.datasets", ["llcuda-test-random"])
    records, dat_entries = [], []
    for name, ggml_type in (("blk.0.ffn_down.weight", 14), ("blk.0.attn_q.weight", 6)):
        t = tensors[name]
        ne0, n_rows = int(t.shape[0]), int(t.shape[1])
        count = np.float32(7 * 512)
        in_sum2 = (np.exp(rng.standard_normal(ne0) * 1.5) * count).astype(np.float32)
        writer.add_tensor(name + ".in_sum2", in_sum2)
        writer.add_tensor(name + ".counts", np.array([count], np.float32))
        imatrix = (in_sum2 / count).astype(np.float32)
        dat_entries.append((name, imatrix))
        f32 = quants.dequantize(np.asarray(t.data).reshape(n_rows, -1), t.tensor_type).astype(np.float32)
        q = run(ggml_type, f32, imatrix)
        records.append((name, [ggml_type, byte_checksum(q), q.size], np.zeros(0, np.uint8), np.zeros(0, np.float32)))
        print(f"imatrix requant {name}: type {ggml_type}, {q.size} bytes")
    # The same values in llama-imatrix's legacy .dat layout (docs/block-formats.md §Importance matrix): i32 entry count;
    # per entry i32 name length, name, i32 ncall, i32 nval, f32 values * ncall; then i32 chunk
    # count, i32 length + dataset name.
    ncall = 7
    with open(os.path.join(OUT, "smollm2_imatrix.dat"), "wb") as f:
        f.write(struct.pack("<i", len(dat_entries)))
        for name, values in dat_entries:
            f.write(struct.pack("<i", len(name)) + name.encode() + struct.pack("<ii", ncall, values.size))
            f.write((values * np.float32(ncall)).astype(np.float32).tobytes())
        f.write(struct.pack("<i", 7) + struct.pack("<i", len("llcuda-test-random")) + b"llcuda-test-random")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    write_records(os.path.join(OUT, "requant_smollm2_imatrix.lqg"), records)


if __name__ == "__main__":
    rng = np.random.default_rng(777)
    build()
    x = inputs(rng)
    imatrix = (np.exp(rng.standard_normal(x.shape[1]) * 1.5)).astype(np.float32)
    imatrix[::50] = 0.0  # columns never activated
    for name, tid in TYPES.items():
        mode = 1 if name in FROM_FLOAT_REF else 0
        records = [(f"{name}/ggml", [tid, x.shape[1], x.shape[0], 0], run(tid, x, None, mode), x.ravel())]
        if name in USES_IMATRIX:
            records.append((f"{name}/ggml+imatrix", [tid, x.shape[1], x.shape[0], 1], run(tid, x, imatrix),
                            np.concatenate([x.ravel(), imatrix])))
        write_records(os.path.join(OUT, f"ggml_{name}.lqg"), records)
        print(f"{name}: {len(records)} records")
    for tid, (block, size) in BLOCK.items():  # dequantization oracle: ggml's to_float
        blocks = rng.integers(0, 256, size=(32, size), dtype=np.uint8)
        if tid == 40:
            blocks[:, 0:4] = rng.integers(0, 0x80, size=(32, 4))
        else:
            blocks[:, 0:2] = (rng.standard_normal(32) * 0.02).astype(np.float16).view(np.uint8).reshape(32, 2)
        payload = struct.pack("<5I", 2, tid, 1, 32 * block, 0) + blocks.tobytes()
        out = np.frombuffer(subprocess.run([EXE], input=payload, capture_output=True, check=True).stdout, np.float32)
        name = {40: "nvfp4", 41: "q1_0", 42: "q2_0"}[tid]
        write_records(os.path.join(OUT, f"dequant_{name}_ggml.lqg"), [(f"{name.upper()}/ggml", [tid, out.size],
                                                                       blocks.ravel(), out)])
        print(f"dequant {name}: {out.size} values from ggml")
    model_imatrix_golden(rng)
