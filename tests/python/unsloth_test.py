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
Run by pytest (conftest.py)."""
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import ROOT

import llcuda
from llcuda.unsloth import export_to_llcuda, merge_lora_adapters

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


@pytest.fixture(scope="module")
def max_diff(reference):
    """max_diff(gguf, golden_name): max |engine log-softmax - transformers'| on the golden tokens."""
    def diff(gguf, golden_name):
        golden = json.loads((CONVERT / golden_name).read_text())
        rows = reference("rows", gguf, *golden["tokens"])
        got, want = np.array(rows["rows"]), np.array(golden["log_softmax"])
        assert got.shape == want.shape, f"{gguf}: logits shape {got.shape} vs {want.shape}"
        return float(np.abs(got - want).max())
    return diff


@pytest.fixture(scope="module")
def cli(llcuda_program):
    def run(*args):
        out = subprocess.run([llcuda_program] + [str(a) for a in args], capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, f"llcuda {' '.join(map(str, args))}: exit {out.returncode} {out.stderr[-300:]}"
    return run


# Outputs compared byte for byte with the CLI's are named llama.gguf (each in its own folder): the
# converter names the model (general.name) after the checkpoint, and the stand-ins have no name.
def same_bytes(a, b, what):
    assert Path(a).read_bytes() == Path(b).read_bytes(), f"{what}: {a} and {b} differ"


def raises(call, cls, needle):
    """call() raises `cls` whose message contains `needle` (any other exception fails the test)."""
    with pytest.raises(cls) as info:
        call()
    assert needle in str(info.value), f"{cls.__name__} message {info.value!r} lacks {needle!r}"


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """The output folder, the PEFT and tokenizer stand-ins, the PEFT base's layout before any export,
    and a plain (non-PEFT) model."""
    d = tmp_path_factory.mktemp("unsloth")
    for sub in ("merged", "plain", "q4", "m1", "m2"):
        (d / sub).mkdir()
    peft = StandInPeftModel()
    return SimpleNamespace(d=d, peft=peft, tok=StandInTokenizer(), layout=peft.get_base_model().state_dict(),
                           plain=module_tree(read_safetensors(BASE / "model.safetensors"), StandInModel()))


def test_stand_in_has_peft_layout(work):
    assert (any(".base_layer." in k for k in work.layout) and any(".lora_A.default." in k for k in work.layout)), \
        "stand-in has PEFT's layout"


@pytest.fixture(scope="module")
def merged(work):
    """Merged export, float32: its path and progress lines."""
    lines = []
    out = export_to_llcuda(work.peft, work.tok, work.d / "merged" / "llama.gguf", quant_type="F32", progress=lines.append)
    return SimpleNamespace(out=out, lines=lines)


def test_merged_export_equals_transformers(merged, max_diff):
    """transformers' logits of PEFT's merge_and_unload."""
    diff = max_diff(merged.out, "lora_llama_logits.json")
    print(f"export_to_llcuda(PEFT, F32): max |d log-softmax| vs transformers = {diff:.3g}")
    assert diff < 2e-3, f"merged export: max |d log-softmax| {diff}"


def test_merged_export_progress(merged):
    assert len(merged.lines) > 20 and any("adapter" in s for s in merged.lines), f"progress lines: {merged.lines[:4]}"


def test_peft_model_left_as_it_was(merged, work):
    assert work.peft.get_base_model().state_dict().keys() == work.layout.keys(), "the PEFT model is left as it was"


def test_merged_gguf_has_plain_llama_tensors(merged):
    gguf = llcuda.gguf.read(merged.out)
    assert (not any("lora" in t.name for t in gguf.tensors) and gguf.metadata["general.architecture"] == "llama"), \
        "merged GGUF: plain llama tensors"


@pytest.fixture(scope="module")
def base_export(work):
    """The base alone (merge_lora=False) and the adapter as its own GGUF."""
    d = work.d
    export_to_llcuda(work.peft, work.tok, d / "base-f32.gguf", "F32", merge_lora=False, lora_out_path=d / "lora.gguf",
                     progress=False)
    return d / "base-f32.gguf", d / "lora.gguf"


def test_base_export_equals_transformers(base_export, max_diff):
    """transformers' logits of the base, far from the merged ones."""
    base_diff = max_diff(base_export[0], "llama_logits.json")
    assert base_diff < 2e-3, f"base export: max |d log-softmax| {base_diff}"
    assert max_diff(base_export[0], "lora_llama_logits.json") > 0.05, "the adapter changes the logits (test bites)"


def test_lora_out_equals_cli(base_export, work, cli):
    cli("export", "--base", BASE, "--lora", ADAPTER, work.d / "cli-lora.gguf", "--lora-only", "-q")
    same_bytes(base_export[1], work.d / "cli-lora.gguf", "lora_out_path = llcuda export --lora-only")


def test_plain_model_export_equals_convert(work, cli):
    d = work.d
    export_to_llcuda(work.plain, work.tok, d / "plain" / "llama.gguf", "Q8_0", progress=False)
    cli("convert", BASE, d / "cli-plain.gguf", "--type", "Q8_0", "-q")
    same_bytes(d / "plain" / "llama.gguf", d / "cli-plain.gguf", "plain model export = llcuda convert")


def test_default_quantization_equals_export(work, cli):
    """Default quantization (Q4_K_M) = `llcuda export` of the same checkpoint."""
    d = work.d
    export_to_llcuda(work.peft, work.tok, d / "q4" / "llama.gguf", progress=False)
    cli("export", "--base", BASE, "--lora", ADAPTER, d / "cli-q4.gguf", "--type", "Q4_K_M", "-q")
    same_bytes(d / "q4" / "llama.gguf", d / "cli-q4.gguf", "export_to_llcuda Q4_K_M = llcuda export --type Q4_K_M")


def test_merge_lora_adapters(work, merged):
    """From a directory and from an in-memory base."""
    d = work.d
    merge_lora_adapters(BASE, ADAPTER, d / "m1" / "llama.gguf", "F32", progress=False)
    merge_lora_adapters(work.plain, ADAPTER, d / "m2" / "llama.gguf", "F32", tokenizer=work.tok, progress=False)
    same_bytes(d / "m1" / "llama.gguf", merged.out, "merge_lora_adapters(dir) = export_to_llcuda")
    same_bytes(d / "m2" / "llama.gguf", merged.out, "merge_lora_adapters(in-memory base) = export_to_llcuda")


def test_bad_input(work):
    d, tok, plain = work.d, work.tok, work.plain
    raises(lambda: export_to_llcuda(object(), tok, d / "x.gguf", progress=False), llcuda.InvalidArgumentError,
           "save_pretrained")
    raises(lambda: export_to_llcuda(plain, None, d / "x.gguf", progress=False), llcuda.InvalidArgumentError, "tokenizer")
    raises(lambda: export_to_llcuda(plain, tok, d / "x.gguf", "Q4_X", progress=False), llcuda.InvalidArgumentError, "Q4_X")
    raises(lambda: merge_lora_adapters(BASE, d / "no-adapter", d / "x.gguf", progress=False), llcuda.ModelNotFoundError,
           "no-adapter")
    peft = StandInPeftModel()  # its own: the change below must not reach the other tests
    peft.base.model.layers.modules_to_save = Module()
    raises(lambda: export_to_llcuda(peft, tok, d / "x.gguf", progress=False), llcuda.UnsupportedError, "modules_to_save")
    assert not (d / "x.gguf").exists(), "failed exports leave no output"


def test_example_script_runs():
    """examples/checkpoint_to_chat.py runs end to end on the tiny checkpoint."""
    ex = subprocess.run([sys.executable, str(ROOT / "examples" / "checkpoint_to_chat.py"), "--quant", "Q8_0"],
                        capture_output=True, timeout=300, env=os.environ)
    assert ex.returncode == 0 and b"assistant:" in ex.stdout and b"for 15 GiB: Q" in ex.stdout, \
        f"examples/checkpoint_to_chat.py: exit {ex.returncode} {ex.stdout[-300:]!r} {ex.stderr[-300:]!r}"
