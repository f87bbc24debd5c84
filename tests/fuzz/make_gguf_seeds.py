#!/usr/bin/env python3
"""Seed corpus for the GGUF fuzz target, written by llama.cpp's own writer (gguf.GGUFWriter):
small files that cover every metadata value type, arrays, custom alignment and several tensor
types, so the fuzzer starts from valid structure."""
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFValueType, GGUFWriter
from gguf.constants import GGML_QUANT_SIZES

out = Path(__file__).resolve().parent / "seeds" / "gguf"
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(7)


def write(name, alignment=None, tensors=(), vocab=8):
    w = GGUFWriter(str(out / name), arch="llama")
    if alignment:
        w.add_custom_alignment(alignment)
    w.add_uint32("llama.block_count", 2)
    w.add_uint32("llama.context_length", 128)
    w.add_float32("llama.rope.freq_base", 10000.0)
    w.add_bool("tokenizer.ggml.add_bos_token", True)
    w.add_string("tokenizer.ggml.model", "gpt2")
    w.add_key_value("test.u8", 7, GGUFValueType.UINT8)
    w.add_key_value("test.i16", -3, GGUFValueType.INT16)
    w.add_key_value("test.u64", 1 << 40, GGUFValueType.UINT64)
    w.add_key_value("test.f64", 0.5, GGUFValueType.FLOAT64)
    w.add_array("tokenizer.ggml.tokens", [f"tok{i}" for i in range(vocab)])
    w.add_key_value("tokenizer.ggml.scores", [float(i) for i in range(vocab)], GGUFValueType.ARRAY, GGUFValueType.FLOAT32)
    w.add_key_value("tokenizer.ggml.token_type", [1] * vocab, GGUFValueType.ARRAY, GGUFValueType.INT32)
    w.add_uint32("tokenizer.ggml.bos_token_id", 1)
    for tname, qtype, ne in tensors:
        block, size = GGML_QUANT_SIZES[qtype]
        n = int(np.prod(ne)) // block * size
        data = rng.integers(0, 256, n, dtype=np.uint8)
        w.add_tensor(tname, data.reshape(list(reversed(ne[1:])) + [ne[0] // block * size]), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


Q = GGMLQuantizationType
write("metadata_only.gguf")
write("aligned64.gguf", alignment=64, tensors=[("a", Q.F32, [4]), ("b", Q.Q4_0, [32, 2])])
write("quant_mix.gguf", tensors=[("token_embd.weight", Q.Q8_0, [32, 4]), ("blk.0.attn_q.weight", Q.Q4_K, [256, 1]),
                                 ("blk.0.ffn_down.weight", Q.Q6_K, [256, 1]), ("output_norm.weight", Q.F16, [8, 2, 1])])
write("four_dims.gguf", tensors=[("x", Q.F32, [2, 2, 2, 2]), ("y", Q.I32, [3])], vocab=3)
print(sorted(p.name for p in out.iterdir()))
