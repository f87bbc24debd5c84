#!/usr/bin/env python3
"""Golden files for tests/convert: tiny random Hugging Face checkpoints of each architecture the
converter supports, saved with save_pretrained, plus transformers' own log-softmax for a fixed token
sequence (and PEFT's merge_and_unload for the LoRA cases).

    pip install torch transformers safetensors peft
    python3 tests/oracles/convert_golden.py          # writes tests/golden/convert/

CI only reads the committed outputs; it never needs torch.
"""
import json
import os
import shutil
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "golden", "convert")
sys.path.insert(0, os.path.join(ROOT, "tests"))
from test_data import tokenizer_dir  # noqa: E402

QWEN3_TOK = tokenizer_dir("qwen3")   # the repository's test data (tests/data)

N_BASE = 300          # byte-level tokens kept from the Qwen3 vocabulary
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
N_TOKENS = N_BASE + len(SPECIALS)   # 303
TOKENS = [1, 45, 77, 260, 12, 299, 301, 88, 150, 3, 200, 302]   # the scored sequence


def tiny_tokenizer(dst):
    """Qwen3's tokenizer.json cut to its first 300 tokens and the merges among them."""
    with open(os.path.join(QWEN3_TOK, "tokenizer.json"), encoding="utf-8") as f:
        j = json.load(f)
    vocab = {t: i for t, i in j["model"]["vocab"].items() if i < N_BASE}
    merges = []
    for m in j["model"]["merges"]:
        a, b = m if isinstance(m, list) else m.split(" ")
        if a in vocab and b in vocab and a + b in vocab:
            merges.append([a, b])
    j["model"]["vocab"] = vocab
    j["model"]["merges"] = merges
    added = []
    for k, text in enumerate(SPECIALS):
        e = dict(j["added_tokens"][k])
        assert e["content"] == text
        e["id"] = N_BASE + k
        added.append(e)
    j["added_tokens"] = added
    with open(os.path.join(dst, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(j, f, ensure_ascii=False)
    with open(os.path.join(QWEN3_TOK, "tokenizer_config.json"), encoding="utf-8") as f:
        qcfg = json.load(f)
    cfg = {
        "tokenizer_class": "Qwen2Tokenizer",
        "bos_token": None,
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
        "add_bos_token": False,
        "model_max_length": 256,
        "chat_template": qcfg["chat_template"],
    }
    with open(os.path.join(dst, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, ensure_ascii=False, indent=1)
    with open(os.path.join(dst, "generation_config.json"), "w") as f:
        json.dump({"eos_token_id": [N_BASE + 2, N_BASE], "pad_token_id": N_BASE}, f)


COMMON = dict(hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, max_position_embeddings=256, rms_norm_eps=1e-5,
              bos_token_id=None, eos_token_id=N_BASE + 2, pad_token_id=N_BASE, tie_word_embeddings=False)

# name -> (config class, extra config, stored dtype, save kwargs)
MODELS = {
    "llama": (transformers.LlamaConfig, dict(vocab_size=320, rope_theta=50000.0), torch.float32, {}),
    # Llama 3.x rope scaling (written as rope_freqs.weight); a small original context puts the
    # smoothing band inside this head size's frequencies.
    "llama3rope": (transformers.LlamaConfig, dict(vocab_size=320, rope_theta=50000.0, rope_scaling={
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 64}), torch.bfloat16, {}),
    "mistral": (transformers.MistralConfig, dict(vocab_size=320, sliding_window=None), torch.bfloat16,
                dict(max_shard_size="60KB")),
    "qwen2": (transformers.Qwen2Config, dict(vocab_size=320, tie_word_embeddings=True), torch.float16, {}),
    "qwen3": (transformers.Qwen3Config, dict(vocab_size=320, head_dim=32), torch.bfloat16, {}),
    "gemma3": (transformers.Gemma3TextConfig, dict(vocab_size=N_TOKENS, head_dim=16, query_pre_attn_scalar=16,
                                                   sliding_window=64, tie_word_embeddings=True,
                                                   hidden_activation="gelu_pytorch_tanh"), torch.bfloat16, {}),
    "phi3": (transformers.Phi3Config, dict(vocab_size=320, sliding_window=None), torch.bfloat16, {}),
}
ARCH_CLASS = {"llama": "LlamaForCausalLM", "llama3rope": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM",
              "qwen3": "Qwen3ForCausalLM", "gemma3": "Gemma3ForCausalLM", "phi3": "Phi3ForCausalLM"}


def randomize(model, gemma):
    """Default init (std 0.02) makes near-uniform predictions; larger weights make the comparison bite."""
    g = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
            if name.endswith("norm.weight"):
                p.copy_((0.0 if gemma else 1.0) + 0.2 * noise)
            elif name.endswith(".bias"):
                p.copy_(0.3 * noise)
            else:
                p.copy_(0.15 * noise)


def logsoftmax_of(model_dir, model=None):
    if model is None:
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor([TOKENS])).logits[0].float()
    return torch.log_softmax(logits, dim=-1)


def save_golden(path, lsm, extra=None):
    data = {"tokens": TOKENS, "n_vocab": lsm.shape[1], "log_softmax": [[round(float(x), 6) for x in row] for row in lsm],
            "transformers": transformers.__version__, "torch": torch.__version__}
    if extra:
        data.update(extra)
    with open(path, "w") as f:
        json.dump(data, f)


def make_model(name):
    cls, extra, dtype, save_kw = MODELS[name]
    cfg = cls(**{**COMMON, **extra})
    cfg.architectures = [ARCH_CLASS[name]]
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager")
    randomize(model, name == "gemma3")
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    model.to(dtype).save_pretrained(d, safe_serialization=True, **save_kw)
    tiny_tokenizer(d)
    save_golden(os.path.join(OUT, f"{name}_logits.json"), logsoftmax_of(d), {"dtype": str(dtype)})
    return d


def clean_adapter(d):
    """Drop PEFT's generated README and this machine's absolute base path from the saved adapter."""
    if os.path.exists(os.path.join(d, "README.md")):
        os.remove(os.path.join(d, "README.md"))
    path = os.path.join(d, "adapter_config.json")
    with open(path) as f:
        cfg = json.load(f)
    cfg["base_model_name_or_path"] = None
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2)


def make_lora(base_name, adapter_name, **lora_kw):
    from peft import LoraConfig, get_peft_model
    base_dir = os.path.join(OUT, base_name)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32, attn_implementation="eager")
    cfg = LoraConfig(init_lora_weights=False, task_type="CAUSAL_LM", **lora_kw)
    torch.manual_seed(7)
    pm = get_peft_model(model, cfg)
    with torch.no_grad():   # PEFT's random init is small; scale B so the delta matters
        for n, p in pm.named_parameters():
            if "lora_B" in n:
                p.mul_(20.0)
    d = os.path.join(OUT, adapter_name)
    shutil.rmtree(d, ignore_errors=True)
    pm.save_pretrained(d)
    clean_adapter(d)
    merged = pm.merge_and_unload()
    save_golden(os.path.join(OUT, f"{adapter_name}_logits.json"), logsoftmax_of(None, merged), {"base": base_name})


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in MODELS:
        print("model", name, file=sys.stderr)
        make_model(name)
    make_lora("llama", "lora_llama", r=4, lora_alpha=8,
              target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
              rank_pattern={"o_proj": 2}, alpha_pattern={"down_proj": 16})
    make_lora("qwen3", "lora_qwen3", r=8, lora_alpha=4, use_rslora=True, target_modules=["q_proj", "v_proj", "up_proj"])
    make_bnb4("llama_bnb4")




def make_bnb4(out_name):
    """An Unsloth-style *-bnb-4bit checkpoint (NF4, double quant) of a tiny llama made by transformers
    + bitsandbytes on the CPU. Reference logits: the float model whose Linear weights are
    bitsandbytes' own dequantize_4bit of the saved codes (what the GPU kernels multiply with; bnb's
    CPU 4-bit matmul fallback computes in lower precision, so its forward is not used). bnb's CPU
    dequantize needs in_features % blocksize == 0, hence intermediate_size 128 here."""
    import tempfile
    from transformers import BitsAndBytesConfig
    cfg = transformers.LlamaConfig(**{**COMMON, "intermediate_size": 128, "vocab_size": 320})
    cfg.architectures = ["LlamaForCausalLM"]
    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager")
    randomize(base, False)
    with tempfile.TemporaryDirectory() as tmp:
        base.save_pretrained(tmp, safe_serialization=True)
        q = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                               bnb_4bit_compute_dtype=torch.float32)
        model = AutoModelForCausalLM.from_pretrained(tmp, quantization_config=q, device_map="cpu",
                                                     dtype=torch.float32, attn_implementation="eager")
    d = os.path.join(OUT, out_name)
    shutil.rmtree(d, ignore_errors=True)
    model.save_pretrained(d, safe_serialization=True)
    tiny_tokenizer(d)
    import bitsandbytes.functional as F
    from safetensors import safe_open
    saved = safe_open(os.path.join(d, "model.safetensors"), "pt")
    n = 0
    with torch.no_grad():
        for name, mod in base.named_modules():
            key = name + ".weight"
            if isinstance(mod, torch.nn.Linear) and key + ".quant_map" in saved.keys():
                side = {k[len(key) + 1:]: saved.get_tensor(k) for k in saved.keys() if k.startswith(key + ".")}
                state = F.QuantState.from_dict(side, device=torch.device("cpu"))
                mod.weight.copy_(F.dequantize_4bit(saved.get_tensor(key), state).float().reshape(mod.weight.shape))
                n += 1
    assert n == 7 * cfg.num_hidden_layers, n
    save_golden(os.path.join(OUT, f"{out_name}_logits.json"), logsoftmax_of(None, base), {"quantization": "bnb nf4"})
    # QLoRA (Unsloth's workflow): an adapter trained on the 4-bit model, merged into its
    # dequantized weights. Reference: PEFT's merge_and_unload on the float model holding exactly
    # those weights.
    from peft import LoraConfig, get_peft_model
    torch.manual_seed(11)
    pm = get_peft_model(base, LoraConfig(init_lora_weights=False, task_type="CAUSAL_LM", r=4, lora_alpha=16,
                                         target_modules=["q_proj", "k_proj", "o_proj", "down_proj"]))
    with torch.no_grad():
        for n_, p_ in pm.named_parameters():
            if "lora_B" in n_:
                p_.mul_(20.0)
    ad = os.path.join(OUT, "lora_" + out_name)
    shutil.rmtree(ad, ignore_errors=True)
    pm.save_pretrained(ad)
    clean_adapter(ad)
    save_golden(os.path.join(OUT, f"lora_{out_name}_logits.json"), logsoftmax_of(None, pm.merge_and_unload()),
                {"base": out_name})


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "bnb":
    make_bnb4("llama_bnb4")
if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "model":
    make_model(sys.argv[2])

if __name__ == "__main__" and len(sys.argv) == 1:
    main()
