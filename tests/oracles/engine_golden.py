#!/usr/bin/env python3
"""Golden files for the CPU engine, computed by llama.cpp (the `llama-cpp-python` package).

1. Tiny random models, one per architecture (llama with Llama-3 rope factors, qwen2, qwen3, gemma3,
   phi3), written with the `gguf` package: tests/golden/engine/tiny-<arch>.gguf, and llama.cpp's
   log-softmax for every position of a fixed token sequence: tiny-<arch>.json.
2. The real models (SmolLM2-135M Q4_1, Gemma-3-270M Q4_K_M): on an Austen passage tokenized by
   llama.cpp, the top-10 log-probabilities at each of the first 64 positions; the per-token negative
   log-likelihood of a 256-token chunk (second half scored, as llama.cpp's perplexity tool does); and
   32 greedy tokens after a prompt: <model>.json. Computed twice: by llama.cpp on the same weights
   dequantized to F32 with an F32 KV cache (the exact-arithmetic reference the CPU engine must match),
   and by llama.cpp on the quantized file with its defaults (8-bit activations in quantized matmuls,
   F16 KV cache) under "llama_cpp_default", reported for comparison.

Needs: pip install llama-cpp-python gguf numpy. Usage: python3 tests/oracles/engine_golden.py [MODEL_CACHE]
"""
import json
import os
import sys
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFValueType, GGUFWriter
from llama_cpp import Llama

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "golden" / "engine"
sys.path.insert(0, str(ROOT / "tests"))
from test_data import austen_path  # noqa: E402


def log_softmax(x):
    x = np.asarray(x, dtype=np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


# ---------------------------------------------------------------- tiny random models per architecture
N_EMBD, N_HEAD, N_HEAD_KV, HEAD_DIM, N_FF, N_CTX = 64, 4, 2, 16, 128, 128
TOKENS = [t for t in np.random.default_rng(5).integers(0, 256, 40).tolist()]


def add_tokenizer(w):
    table = bytes_to_unicode()
    tokens = [table[b] for b in range(256)] + ["Ġt", "<|endoftext|>"]
    w.add_string("tokenizer.ggml.model", "gpt2")
    w.add_string("tokenizer.ggml.pre", "gpt-2")
    w.add_array("tokenizer.ggml.tokens", tokens)
    w.add_key_value("tokenizer.ggml.token_type", [1] * 257 + [3], GGUFValueType.ARRAY, GGUFValueType.INT32)
    w.add_array("tokenizer.ggml.merges", ["Ġ t"])
    w.add_uint32("tokenizer.ggml.bos_token_id", 257)
    w.add_uint32("tokenizer.ggml.eos_token_id", 257)
    return len(tokens)


def write_tiny(arch, path, rng):
    n_layer = 6 if arch == "gemma3" else 2
    w = GGUFWriter(str(path), arch=arch)
    w.add_uint32(f"{arch}.block_count", n_layer)
    w.add_uint32(f"{arch}.context_length", N_CTX)
    w.add_uint32(f"{arch}.embedding_length", N_EMBD)
    w.add_uint32(f"{arch}.feed_forward_length", N_FF)
    w.add_uint32(f"{arch}.attention.head_count", N_HEAD)
    w.add_uint32(f"{arch}.attention.head_count_kv", N_HEAD_KV)
    w.add_float32(f"{arch}.attention.layer_norm_rms_epsilon", 1e-5)
    w.add_float32(f"{arch}.rope.freq_base", 10000.0 if arch != "gemma3" else 1000000.0)
    w.add_uint32(f"{arch}.rope.dimension_count", HEAD_DIM)
    if arch in ("qwen3", "gemma3"):
        w.add_uint32(f"{arch}.attention.key_length", HEAD_DIM)
        w.add_uint32(f"{arch}.attention.value_length", HEAD_DIM)
    if arch == "gemma3":
        w.add_uint32("gemma3.attention.sliding_window", 8)
    if arch == "phi3":
        w.add_uint32("phi3.attention.sliding_window", 0)
    n_vocab = add_tokenizer(w)

    def t(name, *shape, scale=0.08, offset=0.0):  # shape in numpy order
        w.add_tensor(name, (rng.standard_normal(shape) * scale + offset).astype(np.float32))

    t("token_embd.weight", n_vocab, N_EMBD, scale=0.5)
    t("output_norm.weight", N_EMBD, scale=0.1, offset=1.0)
    if arch != "gemma3":
        t("output.weight", n_vocab, N_EMBD)
    if arch == "llama":
        w.add_tensor("rope_freqs.weight", rng.uniform(1.0, 8.0, HEAD_DIM // 2).astype(np.float32))
    q, kv = N_HEAD * HEAD_DIM, N_HEAD_KV * HEAD_DIM
    for i in range(n_layer):
        p = f"blk.{i}."
        t(p + "attn_norm.weight", N_EMBD, scale=0.1, offset=1.0)
        if arch == "phi3":
            t(p + "attn_qkv.weight", q + 2 * kv, N_EMBD)
        else:
            t(p + "attn_q.weight", q, N_EMBD)
            t(p + "attn_k.weight", kv, N_EMBD)
            t(p + "attn_v.weight", kv, N_EMBD)
        if arch == "qwen2":
            t(p + "attn_q.bias", q, scale=0.1)
            t(p + "attn_k.bias", kv, scale=0.1)
            t(p + "attn_v.bias", kv, scale=0.1)
        if arch in ("qwen3", "gemma3"):
            t(p + "attn_q_norm.weight", HEAD_DIM, scale=0.1, offset=1.0)
            t(p + "attn_k_norm.weight", HEAD_DIM, scale=0.1, offset=1.0)
        t(p + "attn_output.weight", N_EMBD, q)
        if arch == "gemma3":
            t(p + "post_attention_norm.weight", N_EMBD, scale=0.1, offset=1.0)
            t(p + "post_ffw_norm.weight", N_EMBD, scale=0.1, offset=1.0)
        t(p + "ffn_norm.weight", N_EMBD, scale=0.1, offset=1.0)
        if arch == "phi3":
            t(p + "ffn_up.weight", 2 * N_FF, N_EMBD)
        else:
            t(p + "ffn_gate.weight", N_FF, N_EMBD)
            t(p + "ffn_up.weight", N_FF, N_EMBD)
        t(p + "ffn_down.weight", N_EMBD, N_FF)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def llama_logprobs(model_path, tokens, n_ctx):
    llm = Llama(model_path=str(model_path), n_ctx=n_ctx, n_batch=n_ctx, logits_all=True, n_threads=2, verbose=False)
    llm.reset()
    llm.eval(tokens)
    return llm, log_softmax(np.array(llm.scores[: len(tokens)]))


def tiny_models():
    for seed, arch in enumerate(["llama", "qwen2", "qwen3", "gemma3", "phi3"]):
        path = OUT / f"tiny-{arch}.gguf"
        write_tiny(arch, path, np.random.default_rng(100 + seed))
        _, lp = llama_logprobs(path, TOKENS, N_CTX)
        (OUT / f"tiny-{arch}.json").write_text(json.dumps({
            "model": path.name, "tokens": TOKENS,
            "logprobs": [[round(float(x), 6) for x in row] for row in lp],
        }) + "\n")
        print(f"tiny-{arch}: {path.stat().st_size} bytes, {len(TOKENS)} positions")


# ---------------------------------------------------------------- real models
REAL = {"smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf", "gemma3": "gemma-3-270m-q4_k_m.gguf"}
PROMPT = "The capital of France is"


def dequantized_copy(path: Path, out: Path):
    """The same model with every tensor dequantized to F32 (metadata copied, file_type = 0)."""
    from gguf import GGUFReader
    from gguf.quants import dequantize
    r = GGUFReader(path)
    arch = bytes(r.fields["general.architecture"].parts[-1]).decode()
    w = GGUFWriter(str(out), arch=arch)
    for name, f in r.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue
        vtype = f.types[0]
        if vtype == GGUFValueType.ARRAY:
            sub = f.types[1]
            parts = [f.parts[i] for i in f.data]
            vals = [bytes(p).decode("utf-8", errors="surrogateescape") if sub == GGUFValueType.STRING else p[0].item()
                    for p in parts]
            w.add_key_value(name, vals, vtype, sub)
        elif vtype == GGUFValueType.STRING:
            w.add_key_value(name, bytes(f.parts[f.data[0]]).decode("utf-8", errors="surrogateescape"), vtype)
        else:
            value = f.parts[f.data[0]][0].item()
            w.add_key_value(name, 0 if name == "general.file_type" else value, vtype)
    for t in r.tensors:
        data = dequantize(t.data, t.tensor_type).astype(np.float32)
        w.add_tensor(t.name, data.reshape(list(reversed([int(x) for x in t.shape]))))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def reference_outputs(path, tokens, prompt_text, exact):
    """llama.cpp's top-10 log-probs, chunk NLL and greedy tokens; exact=True: F32 KV cache."""
    kv = {"type_k": 0, "type_v": 0} if exact else {}
    llm = Llama(model_path=str(path), n_ctx=256, n_batch=256, logits_all=True, n_threads=2, verbose=False, **kv)
    if tokens is None:
        tokens = llm.tokenize(prompt_text[0].encode("utf-8"), add_bos=True, special=False)[:256]
    llm.reset()
    llm.eval(tokens)
    lp = log_softmax(np.array(llm.scores[:256]))
    top = []
    for i in range(64):
        ids = np.argsort(-lp[i], kind="stable")[:10]
        top.append([[int(j), round(float(lp[i][j]), 6)] for j in ids])
    nll = [float(-lp[i][tokens[i + 1]]) for i in range(128, 255)]
    prompt = llm.tokenize(prompt_text[1].encode(), add_bos=True, special=False)
    llm.reset()
    llm.eval(prompt)
    greedy = []
    for _ in range(32):
        nxt = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        greedy.append(nxt)
        llm.eval([nxt])
    text = llm.detokenize(greedy).decode(errors="replace")
    return tokens, prompt, {"top_logprobs": top, "nll": nll, "perplexity": float(np.exp(np.mean(nll))),
                            "greedy": greedy, "greedy_text": text}


def real_model(label, path):
    import tempfile
    text = austen_path().read_text(encoding="utf-8")[20000:24000]
    tokens, prompt, default = reference_outputs(path, None, (text, PROMPT), exact=False)
    with tempfile.TemporaryDirectory() as d:
        f32 = Path(d) / "f32.gguf"
        dequantized_copy(path, f32)
        _, _, exact = reference_outputs(f32, tokens, (text, PROMPT), exact=True)
    golden = {"model": path.name, "tokens": tokens, "nll_positions": [128, 255], "prompt": PROMPT,
              "prompt_tokens": prompt, **exact, "llama_cpp_default": default}
    (OUT / f"{label}.json").write_text(json.dumps(golden) + "\n")
    print(f"{label}: perplexity {exact['perplexity']:.4f} (quantized path {default['perplexity']:.4f}), "
          f"greedy {exact['greedy_text']!r}")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    tiny_models()
    cache = Path(sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/llcuda/models"))
    for label, filename in REAL.items():
        real_model(label, cache / filename)


if __name__ == "__main__":
    main()
