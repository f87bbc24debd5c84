#!/usr/bin/env python3
"""From a fine-tuned checkpoint to a chat reply, in one process (notebook-style: each `# %%` is a cell).

    python examples/checkpoint_to_chat.py CHECKPOINT_DIR [--adapter LORA_DIR] [--quant Q4_K_M] [--vram 15]

CHECKPOINT_DIR is a Hugging Face model directory (config.json, *.safetensors, tokenizer.json), as
`model.save_pretrained(...)` / `tokenizer.save_pretrained(...)` write it; --adapter a PEFT LoRA adapter
directory to merge into it. In a notebook that still holds the trained model, skip cells 1-2 and
call `llcuda.unsloth.export_to_llcuda(model, tokenizer, "model.gguf")` instead.
Without arguments it runs on the tiny random test checkpoint (tests/golden/convert/qwen3): the reply
is gibberish, but every step runs.
"""
# %% 0. Settings
import argparse
import sys
import tempfile
from pathlib import Path

import llcuda
from llcuda.quantization import convert_to_gguf, recommend
from llcuda.unsloth import merge_lora_adapters

repo = Path(__file__).resolve().parents[1]
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("checkpoint", nargs="?", default=repo / "tests" / "golden" / "convert" / "qwen3", type=Path)
parser.add_argument("--adapter", type=Path, help="PEFT LoRA adapter directory to merge")
parser.add_argument("--quant", default="Q4_K_M", help="GGUF type: Q4_K_M, Q5_K_M, Q6_K, Q8_0, F16, ...")
parser.add_argument("--vram", type=float, default=15.0, help="GPU memory to plan for (GiB): a T4 has 15")
parser.add_argument("--out", type=Path, help="where to keep the GGUF (default: a temporary file)")
parser.add_argument("--prompt", default="Write one sentence about the sea.")
args = parser.parse_args()
out = args.out or Path(tempfile.mkdtemp(prefix="llcuda-example-")) / f"{args.checkpoint.name}-{args.quant}.gguf"

# %% 1. Checkpoint -> GGUF (llcuda's C++ converter; with --adapter the LoRA delta is merged first)
if args.adapter:
    merge_lora_adapters(args.checkpoint, args.adapter, out, quant_type=args.quant)
else:
    convert_to_gguf(args.checkpoint, out, quant_type=args.quant)
info = llcuda.gguf.read(out)
print(f"wrote {out}: {info.metadata['general.architecture']}, {len(info.tensors)} tensors, "
      f"{out.stat().st_size / 2**20:.1f} MiB")

# %% 2. How it fits on the GPU (the planner behind `llcuda recommend`)
arch = info.metadata["general.architecture"]
context = min(4096, info.metadata.get(f"{arch}.context_length", 4096))   # the planner stops at the trained context
plan = recommend(out, args.vram, context=context)
print(f"for {args.vram:g} GiB: {plan.recommended_type or 'nothing fits'}, KV cache {plan.recommended_kv_type}, "
      f"up to {plan.recommended_context} tokens of context")

# %% 3. Load and chat (GPU when this build has CUDA and a GPU is present, else the CPU)
gpu_layers = None if llcuda.check_cuda_available() else 0
with llcuda.InferenceEngine() as engine:
    engine.load_model(str(out), gpu_layers=gpu_layers, ctx_size=2048)
    messages = [{"role": "user", "content": args.prompt}]
    reply = engine.create_chat_completion(messages, max_tokens=48, temperature=0.0)
    print("assistant:", reply["choices"][0]["message"]["content"])
    # Streamed, piece by piece:
    for chunk in engine.create_chat_completion(messages, max_tokens=24, temperature=0.0, stream=True):
        sys.stdout.write(chunk["choices"][0]["delta"].get("content") or "")
    print()
