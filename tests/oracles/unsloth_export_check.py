#!/usr/bin/env python3
"""End-to-end check of llcuda.unsloth.export_to_llcuda with real transformers + PEFT models in memory
(what tests/python/unsloth_test.py checks in CI with stand-ins, since CI has no torch): a tiny random
Llama with a PEFT LoRA adapter (random, non-zero B) is exported without merging it first; the C++
engine's log-softmax of the GGUF (engine_reference rows) must match the PEFT model's own forward pass.
Also, when bitsandbytes is installed: quantize_nf4 on torch tensors against it, and a LoRA over a
bitsandbytes NF4 base (Unsloth's *-bnb-4bit case).

    pip install torch transformers peft safetensors [bitsandbytes]
    PYTHONPATH=build/python python3 tests/oracles/unsloth_export_check.py build/tests/cli/engine_reference
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import transformers
from peft import LoraConfig, get_peft_model

from llcuda.quantization import dequantize_nf4, quantize_nf4
from llcuda.unsloth import export_to_llcuda

REFERENCE = sys.argv[1]
ROOT = Path(__file__).resolve().parents[2]
TOKENS = [1, 45, 77, 260, 12, 299, 88, 150, 3, 200]
failed = 0


def report(ok, what):
    global failed
    failed += not ok
    print(("ok    " if ok else "FAILED"), what)


cfg = transformers.LlamaConfig(vocab_size=320, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                               num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                               rms_norm_eps=1e-5, bos_token_id=None, eos_token_id=302, pad_token_id=300,
                               tie_word_embeddings=False)
cfg.architectures = ["LlamaForCausalLM"]
torch.manual_seed(0)
model = transformers.AutoModelForCausalLM.from_config(cfg, attn_implementation="eager")
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.randn_like(p) * (0.2 if p.ndim == 1 else 0.15) + (1.0 if p.ndim == 1 else 0.0))
peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, init_lora_weights=False, task_type="CAUSAL_LM",
                                              target_modules=["q_proj", "v_proj", "down_proj"]))
with torch.no_grad():
    for n, p in peft_model.named_parameters():
        if "lora_B" in n:
            p.mul_(20.0)
    peft_model.eval()
    want = torch.log_softmax(peft_model(torch.tensor([TOKENS])).logits[0].float(), -1).numpy()
    base_want = None
    with peft_model.disable_adapter():
        base_want = torch.log_softmax(peft_model(torch.tensor([TOKENS])).logits[0].float(), -1).numpy()
tokenizer = transformers.AutoTokenizer.from_pretrained(ROOT / "tests" / "golden" / "convert" / "llama")

with tempfile.TemporaryDirectory() as d:
    out = export_to_llcuda(peft_model, tokenizer, Path(d) / "tiny.gguf", quant_type="F32", progress=False)
    got = np.array(json.loads(subprocess.run([REFERENCE, "rows", str(out)] + [str(t) for t in TOKENS],
                                             capture_output=True, check=True).stdout)["rows"])
    diff, base_diff = np.abs(got - want).max(), np.abs(base_want - want).max()
    report(diff < 2e-3 and base_diff > 0.05, f"PEFT model exported: max |d log-softmax| {diff:.3g} "
                                             f"(the adapter itself moves it by {base_diff:.3g})")
report(any("lora_A" in n for n, _ in peft_model.named_parameters()), "the PEFT model in memory was left unmerged")

# Rows a multiple of the blocksize: bitsandbytes' own CPU dequantize_4bit is wrong otherwise (for 2-D
# tensors whose rows are not; tests/oracles/convert_golden.py notes the same).
w = torch.randn(256, 128)
packed, state = quantize_nf4(w)
back = dequantize_nf4(packed, state)
report(isinstance(packed, torch.Tensor) and packed.shape == (256 * 128 // 2, 1) and back.dtype == w.dtype
       and back.shape == w.shape, f"torch in, torch out: {type(packed).__name__} {tuple(packed.shape)} {back.dtype}")
report(bool((back - w).abs().max() < w.abs().max() * 0.2), "round trip error bounded")
try:
    import bitsandbytes.functional as F
    theirs, st = F.quantize_4bit(w, blocksize=64, quant_type="nf4", compress_statistics=False)
    ours, _ = quantize_nf4(w, double_quant=False)
    report(torch.equal(theirs.view(-1), ours.view(-1)), "quantize_nf4(torch) = bitsandbytes quantize_4bit bytes")
    report(torch.equal(F.dequantize_4bit(theirs, st), dequantize_nf4(theirs, st)),
           "dequantize_nf4 of bitsandbytes' own (packed, QuantState) = bitsandbytes dequantize_4bit")
    theirs, st = F.quantize_4bit(w, blocksize=64, quant_type="nf4", compress_statistics=True)
    report(torch.equal(theirs.view(-1), quantize_nf4(w)[0].view(-1)) and torch.equal(F.dequantize_4bit(theirs, st),
                                                                                    dequantize_nf4(theirs, st)),
           "double quantization: same bytes, same dequantization of bitsandbytes' state")

    # Unsloth's case: LoRA over a bitsandbytes NF4 base (loaded on the CPU). The export must equal
    # llcuda's merge of the base and adapter saved separately (same tensors; general.name differs
    # only by the directory names).
    import llcuda
    from llcuda.quantization import merge_lora
    from transformers import BitsAndBytesConfig
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        cfg.intermediate_size = 128   # bitsandbytes' CPU path wants rows a multiple of the blocksize
        torch.manual_seed(0)
        transformers.AutoModelForCausalLM.from_config(cfg).save_pretrained(d / "f32")
        q = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                               bnb_4bit_compute_dtype=torch.float32)
        load = lambda: transformers.AutoModelForCausalLM.from_pretrained(d / "f32", quantization_config=q,  # noqa: E731
                                                                         device_map="cpu")
        load().save_pretrained(d / "base")
        tokenizer.save_pretrained(d / "base")
        pm = get_peft_model(load(), LoraConfig(r=4, lora_alpha=8, init_lora_weights=False, task_type="CAUSAL_LM",
                                               target_modules=["q_proj", "v_proj", "down_proj"]))
        pm.save_pretrained(d / "adapter")
        a = llcuda.gguf.read(export_to_llcuda(pm, tokenizer, d / "export.gguf", "F32", progress=False))
        merge_lora(d / "base", d / "adapter", d / "ref.gguf", "F32", progress=False)
        b = llcuda.gguf.read(d / "ref.gguf")
        same = ([t.name for t in a.tensors] == [t.name for t in b.tensors]
                and all(np.array_equal(a.tensor(t.name), b.tensor(t.name)) for t in a.tensors)
                and all(a.metadata[k] == b.metadata[k] for k in a.metadata if k != "general.name"))
        report(same, "PEFT over a bitsandbytes NF4 base: export = merge of the separately saved base and adapter")
except ImportError:
    print("bitsandbytes not installed: its comparisons not run")
sys.exit(1 if failed else 0)
