#!/usr/bin/env python3
"""llcuda.unsloth.export_to_llcuda / merge_lora_adapters: the exported GGUF gives transformers' logits.

torch is too heavy for CI, so the in-memory models here are stand-ins with the interface and state
that transformers and PEFT models have, built from the tiny random Llama and its PEFT LoRA adapter in
tests/golden/convert (written by transformers' / PEFT's own save_pretrained in
tests/oracles/convert_golden.py, which also recorded transformers' log-softmax of the merged model):
  - the PEFT stand-in's base model has PEFT's LoRA wrappers in place of the adapted layers (its state
    dict: '<module>.base_layer.weight' next to '<module>.lora_A.default.weight'), which
    export_to_llcuda must take out for the save and put back;
  - the exported GGUF scored by the C++ engine (engine_reference rows) matches transformers' golden
    log-softmax (merged: PEFT's merge_and_unload; plain: the base), and the unmerged base is far off;
  - quantized exports are byte-identical to `llcuda export` / `llcuda convert` on the saved checkpoint.
Usage: unsloth_test.py REPO_ROOT LLCUDA ENGINE_REFERENCE INFER_TIMING"""
import json
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from py_support import LLCUDA, ROOT, Checks, reference

import llcuda
from llcuda.unsloth import export_to_llcuda, merge_lora_adapters

check = Checks()
CONVERT = ROOT / "tests" / "golden" / "convert"
BASE, ADAPTER = CONVERT / "llama", CONVERT / "lora_llama"


def read_safetensors(path):
    data = Path(path).read_bytes()
    (n,) = struct.unpack_from("<Q", data)
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info
        lo, hi = info["data_offsets"]
        out[name] = np.frombuffer(data, np.float32, (hi - lo) // 4, 8 + n + lo).reshape(info["shape"])
    return out


def write_safetensors(path, tensors):
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, a in tensors.items():
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for a in tensors.values():
            f.write(np.ascontiguousarray(a, np.float32).tobytes())


class Module:
    """A torch.nn.Module as export_to_llcuda sees one: child modules and parameters as attributes,
    named_modules(), get_submodule(), state_dict() with dotted names."""

    def named_modules(self, prefix=""):
        yield prefix, self
        for k, v in vars(self).items():
            if isinstance(v, Module):
                yield from v.named_modules(f"{prefix}.{k}" if prefix else k)

    def get_submodule(self, name):
        m = self
        for part in name.split("."):
            m = getattr(m, part)
        return m

    def state_dict(self):
        out = {}
        for name, m in self.named_modules():
            for k, v in vars(m).items():
                if isinstance(v, np.ndarray):
                    out[f"{name}.{k}" if name else k] = v
        return out


def module_tree(tensors, root):
    """Puts each 'a.b.weight' tensor at root.a.b.weight."""
    for name, a in tensors.items():
        *path, leaf = name.split(".")
        m = root
        for part in path:
            if not isinstance(getattr(m, part, None), Module):
                setattr(m, part, Module())
            m = getattr(m, part)
        setattr(m, leaf, a)
    return root


class StandInModel(Module):
    """A transformers model: a module tree whose save_pretrained(dir, safe_serialization=True) writes
    config.json, generation_config.json and model.safetensors from its state_dict()."""

    def save_pretrained(self, directory, safe_serialization=True):
        assert safe_serialization
        for f in ("config.json", "generation_config.json"):
            shutil.copy(BASE / f, Path(directory) / f)
        write_safetensors(Path(directory) / "model.safetensors", self.state_dict())


class LoraLinear(Module):
    """PEFT's LoRA wrapper: the adapted layer as base_layer, the LoRA matrices per adapter name."""

    def __init__(self, base_layer, a, b):
        self.base_layer = base_layer
        self.lora_A = module_tree({"default.weight": a}, Module())
        self.lora_B = module_tree({"default.weight": b}, Module())


class StandInPeftModel:
    """A PeftModel after get_peft_model + training: its base model has PEFT's LoRA wrappers in place of
    the adapted layers (so its state dict has '<module>.base_layer.weight' next to
    '<module>.lora_A.default.weight'), and save_pretrained writes the adapter only."""

    def __init__(self):
        base, lora = read_safetensors(BASE / "model.safetensors"), read_safetensors(ADAPTER / "adapter_model.safetensors")
        self.base = module_tree(base, StandInModel())
        for name in base:
            module = name[:-len(".weight")]
            if f"base_model.model.{module}.lora_A.weight" in lora:
                parent, _, child = module.rpartition(".")
                p = self.base.get_submodule(parent)
                setattr(p, child, LoraLinear(getattr(p, child), lora[f"base_model.model.{module}.lora_A.weight"],
                                             lora[f"base_model.model.{module}.lora_B.weight"]))
        self.peft_config = {"default": json.loads((ADAPTER / "adapter_config.json").read_text())}

    def get_base_model(self):
        return self.base

    def save_pretrained(self, directory):
        Path(directory).mkdir(parents=True, exist_ok=True)
        for f in ("adapter_config.json", "adapter_model.safetensors"):
            shutil.copy(ADAPTER / f, Path(directory) / f)


class StandInTokenizer:
    def save_pretrained(self, directory):
        for f in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(BASE / f, Path(directory) / f)


def max_diff(gguf, golden_name):
    golden = json.loads((CONVERT / golden_name).read_text())
    rows = reference("rows", gguf, *golden["tokens"])
    if rows is None:
        check(False, f"engine_reference rows {gguf}")
        return float("inf")
    got, want = np.array(rows["rows"]), np.array(golden["log_softmax"])
    check(got.shape == want.shape, f"{gguf}: logits shape {got.shape} vs {want.shape}")
    return float(np.abs(got - want).max()) if got.shape == want.shape else float("inf")


def cli(*args):
    out = subprocess.run([LLCUDA] + [str(a) for a in args], capture_output=True, text=True, timeout=600)
    check(out.returncode == 0, f"llcuda {' '.join(map(str, args))}: exit {out.returncode} {out.stderr[-300:]}")


# Outputs compared byte for byte with the CLI's are named llama.gguf (each in its own folder): the
# converter names the model (general.name) after the checkpoint, and the stand-ins have no name.
def same_bytes(a, b, what):
    check(Path(a).read_bytes() == Path(b).read_bytes(), f"{what}: {a} and {b} differ")


with tempfile.TemporaryDirectory() as d:
    d = Path(d)
    for sub in ("merged", "plain", "q4", "m1", "m2"):
        (d / sub).mkdir()
    peft, tok = StandInPeftModel(), StandInTokenizer()
    layout = peft.get_base_model().state_dict()
    check(any(".base_layer." in k for k in layout) and any(".lora_A.default." in k for k in layout),
          "stand-in has PEFT's layout")

    # Merged export, float32: transformers' logits of PEFT's merge_and_unload.
    lines = []
    out = export_to_llcuda(peft, tok, d / "merged" / "llama.gguf", quant_type="F32", progress=lines.append)
    diff = max_diff(out, "lora_llama_logits.json")
    print(f"export_to_llcuda(PEFT, F32): max |d log-softmax| vs transformers = {diff:.3g}")
    check(diff < 2e-3, f"merged export: max |d log-softmax| {diff}")
    check(len(lines) > 20 and any("adapter" in s for s in lines), f"progress lines: {lines[:4]}")
    check(peft.get_base_model().state_dict().keys() == layout.keys(), "the PEFT model is left as it was")
    gguf = llcuda.gguf.read(out)
    check(not any("lora" in t.name for t in gguf.tensors) and gguf.metadata["general.architecture"] == "llama",
          "merged GGUF: plain llama tensors")

    # The base alone (merge_lora=False): transformers' logits of the base, far from the merged ones.
    export_to_llcuda(peft, tok, d / "base-f32.gguf", "F32", merge_lora=False, lora_out_path=d / "lora.gguf", progress=False)
    base_diff = max_diff(d / "base-f32.gguf", "llama_logits.json")
    check(base_diff < 2e-3, f"base export: max |d log-softmax| {base_diff}")
    check(max_diff(d / "base-f32.gguf", "lora_llama_logits.json") > 0.05, "the adapter changes the logits (test bites)")
    cli("export", "--base", BASE, "--lora", ADAPTER, d / "cli-lora.gguf", "--lora-only", "-q")
    same_bytes(d / "lora.gguf", d / "cli-lora.gguf", "lora_out_path = llcuda export --lora-only")

    # A plain (non-PEFT) model.
    plain = module_tree(read_safetensors(BASE / "model.safetensors"), StandInModel())
    export_to_llcuda(plain, tok, d / "plain" / "llama.gguf", "Q8_0", progress=False)
    cli("convert", BASE, d / "cli-plain.gguf", "--type", "Q8_0", "-q")
    same_bytes(d / "plain" / "llama.gguf", d / "cli-plain.gguf", "plain model export = llcuda convert")

    # Default quantization (Q4_K_M) = `llcuda export` of the same checkpoint.
    export_to_llcuda(peft, tok, d / "q4" / "llama.gguf", progress=False)
    cli("export", "--base", BASE, "--lora", ADAPTER, d / "cli-q4.gguf", "--type", "Q4_K_M", "-q")
    same_bytes(d / "q4" / "llama.gguf", d / "cli-q4.gguf", "export_to_llcuda Q4_K_M = llcuda export --type Q4_K_M")

    # merge_lora_adapters: from a directory and from an in-memory base.
    merge_lora_adapters(BASE, ADAPTER, d / "m1" / "llama.gguf", "F32", progress=False)
    merge_lora_adapters(plain, ADAPTER, d / "m2" / "llama.gguf", "F32", tokenizer=tok, progress=False)
    same_bytes(d / "m1" / "llama.gguf", out, "merge_lora_adapters(dir) = export_to_llcuda")
    same_bytes(d / "m2" / "llama.gguf", out, "merge_lora_adapters(in-memory base) = export_to_llcuda")

    # Bad input.
    def raises(call, cls, needle):
        try:
            call()
            check(False, f"{needle}: no error")
        except cls as e:
            check(needle in str(e), f"{cls.__name__} message {e!r} lacks {needle!r}")
        except Exception as e:  # noqa: BLE001
            check(False, f"{needle}: expected {cls.__name__}, got {type(e).__name__}: {e}")

    raises(lambda: export_to_llcuda(object(), tok, d / "x.gguf", progress=False), llcuda.InvalidArgumentError,
           "save_pretrained")
    raises(lambda: export_to_llcuda(plain, None, d / "x.gguf", progress=False), llcuda.InvalidArgumentError, "tokenizer")
    raises(lambda: export_to_llcuda(plain, tok, d / "x.gguf", "Q4_X", progress=False), llcuda.InvalidArgumentError, "Q4_X")
    raises(lambda: merge_lora_adapters(BASE, d / "no-adapter", d / "x.gguf", progress=False), llcuda.ModelNotFoundError,
           "no-adapter")
    peft.base.model.layers.modules_to_save = Module()
    raises(lambda: export_to_llcuda(peft, tok, d / "x.gguf", progress=False), llcuda.UnsupportedError, "modules_to_save")
    check(not (d / "x.gguf").exists(), "failed exports leave no output")

# The example script (examples/checkpoint_to_chat.py) runs end to end on the tiny checkpoint.
import os, sys  # noqa: E401,E402
ex = subprocess.run([sys.executable, str(ROOT / "examples" / "checkpoint_to_chat.py"), "--quant", "Q8_0"],
                    capture_output=True, timeout=300, env=os.environ)
check(ex.returncode == 0 and b"assistant:" in ex.stdout and b"for 15 GiB: Q" in ex.stdout,
      f"examples/checkpoint_to_chat.py: exit {ex.returncode} {ex.stdout[-300:]!r} {ex.stderr[-300:]!r}")
check.finish()
