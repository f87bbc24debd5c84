#!/usr/bin/env python3
"""What llama.cpp's convert_hf_to_gguf.py would write for the tiny checkpoints of
convert_golden.py, derived with llama.cpp's own Python package `gguf` (tensor name map,
SpecialVocab) and transformers' tokenizer, the way the reference converter does it:
tensor names and ggml shapes, hyperparameter keys, token list/types, merges, special ids and
chat template. Writes tests/golden/convert/<name>_expected_gguf.json.

    python3 tests/oracles/convert_expected_gguf.py   (after convert_golden.py)
"""
import json
import os

import gguf
from safetensors import safe_open
from transformers import AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "golden", "convert")
ARCH = {"llama": gguf.MODEL_ARCH.LLAMA, "mistral": gguf.MODEL_ARCH.LLAMA, "qwen2": gguf.MODEL_ARCH.QWEN2,
        "qwen3": gguf.MODEL_ARCH.QWEN3, "gemma3": gguf.MODEL_ARCH.GEMMA3, "phi3": gguf.MODEL_ARCH.PHI3}


def hf_tensors(d):
    shapes = {}
    for f in sorted(os.listdir(d)):
        if f.endswith(".safetensors"):
            with safe_open(os.path.join(d, f), "pt") as s:
                for k in s.keys():
                    shapes[k] = list(s.get_slice(k).get_shape())
    return shapes


def main():
    for name, arch in ARCH.items():
        d = os.path.join(OUT, name)
        cfg = json.load(open(os.path.join(d, "config.json")))
        n_layer = cfg["num_hidden_layers"]
        tmap = gguf.get_tensor_name_map(arch, n_layer)
        tensors = {}
        for hf, shape in hf_tensors(d).items():
            g = tmap.get_name(hf, try_suffixes=(".weight", ".bias"))
            assert g is not None, hf
            tensors[g] = list(reversed(shape))
        a = gguf.MODEL_ARCH_NAMES[arch]
        K = gguf.Keys
        rope = cfg.get("rope_parameters", {})
        rope = rope.get("full_attention", rope)
        keys = {
            "general.architecture": a,
            K.LLM.BLOCK_COUNT.format(arch=a): n_layer,
            K.LLM.CONTEXT_LENGTH.format(arch=a): cfg["max_position_embeddings"],
            K.LLM.EMBEDDING_LENGTH.format(arch=a): cfg["hidden_size"],
            K.LLM.FEED_FORWARD_LENGTH.format(arch=a): cfg["intermediate_size"],
            K.Attention.HEAD_COUNT.format(arch=a): cfg["num_attention_heads"],
            K.Attention.HEAD_COUNT_KV.format(arch=a): cfg["num_key_value_heads"],
            K.Attention.LAYERNORM_RMS_EPS.format(arch=a): cfg["rms_norm_eps"],
            K.Rope.FREQ_BASE.format(arch=a): rope["rope_theta"],
        }
        if "head_dim" in cfg and name in ("qwen3", "gemma3"):
            keys[K.Attention.KEY_LENGTH.format(arch=a)] = cfg["head_dim"]
            keys[K.Attention.VALUE_LENGTH.format(arch=a)] = cfg["head_dim"]
        if a == "llama":
            keys[K.LLM.VOCAB_SIZE.format(arch=a)] = cfg["vocab_size"]
            keys[K.Rope.DIMENSION_COUNT.format(arch=a)] = cfg["hidden_size"] // cfg["num_attention_heads"]

        # Vocabulary as convert_hf_to_gguf.py's get_vocab_base() builds it.
        tok = AutoTokenizer.from_pretrained(d)
        vocab_size = cfg["vocab_size"]
        reverse = {i: t for t, i in tok.get_vocab().items()}
        added = tok.added_tokens_decoder
        tokens, types = [], []
        for i in range(vocab_size):
            if i not in reverse:
                tokens.append(f"[PAD{i}]")
                types.append(int(gguf.TokenType.UNUSED))
            elif i in added:
                tokens.append(reverse[i])
                types.append(int(gguf.TokenType.CONTROL if added[i].special else gguf.TokenType.USER_DEFINED))
            else:
                tokens.append(reverse[i])
                types.append(int(gguf.TokenType.NORMAL))
        sv = gguf.SpecialVocab(d, load_merges=True, n_vocab=len(tokens))
        gguf_key = {"bos": "bos", "eos": "eos", "unk": "unknown", "sep": "seperator", "pad": "padding",
                    "cls": "cls", "mask": "mask", "eot": "eot", "eom": "eom"}
        special = {f"tokenizer.ggml.{gguf_key[k]}_token_id": v for k, v in sv.special_token_ids.items()}
        texts = ["Hello world", "<|im_start|>user\nhi there!<|im_end|>", "  spaces\tand 123 digits", "ünïcödé ✓"]
        encode = {t: tok.encode(t, add_special_tokens=True) for t in texts}
        out = {"encode": encode, "tensors": tensors, "keys": keys, "tokens": tokens, "token_types": types,
               "merges": sv.merges, "special_ids": special, "chat_template": sv.chat_template,
               "add_bos": sv.add_special_token.get("bos")}
        with open(os.path.join(OUT, f"{name}_expected_gguf.json"), "w", encoding="utf-8") as f:
            json.dump(out, f, ensure_ascii=False)
        print(name, len(tensors), "tensors", special)


if __name__ == "__main__":
    main()
