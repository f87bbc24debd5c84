"""From a fine-tuned model in memory (transformers, PEFT, Unsloth) to a GGUF file llcuda runs.

>>> from llcuda.unsloth import export_to_llcuda
>>> path = export_to_llcuda(model, tokenizer, "my-model.gguf", quant_type="Q4_K_M")   # after training
>>> engine = llcuda.InferenceEngine(); engine.load_model(path)

The model is written with its own ``save_pretrained`` into a temporary directory (for a PEFT /
Unsloth model: the base weights and the LoRA adapter separately), then llcuda's C++ converter reads
that checkpoint, merges the LoRA delta in float32 (W += scale * B A) and quantizes: no llama.cpp, no
Python conversion script, no torch arithmetic here. Progress for the long steps (saving, converting)
is shown as a tqdm bar when tqdm is installed, else as lines on stderr (``progress=False``: quiet).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional, Union

from .errors import InvalidArgumentError, UnsupportedError
from .quantization import ProgressArg, convert_to_gguf
from .quantization import merge_lora as _merge_lora  # export_to_llcuda has a merge_lora flag

PathLike = Union[str, os.PathLike]

# Files a tokenizer directory may hold that the converter reads (tokenizer.json for the vocabulary,
# the config for special tokens and the chat template, generation_config for end-of-turn tokens).
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
                    "generation_config.json", "chat_template.jinja", "chat_template.json", "added_tokens.json",
                    "vocab.json", "merges.txt")


def _say(progress: ProgressArg, text: str) -> None:
    if progress is True:
        print(f"llcuda: {text}", file=sys.stderr, flush=True)
    elif callable(progress):
        progress(text)


def _is_peft(model: Any) -> bool:
    """A PEFT model (also what Unsloth's get_peft_model returns): the adapter is saved on its own."""
    return hasattr(model, "peft_config") and hasattr(model, "get_base_model")


@contextmanager
def _lora_layers_removed(peft_model: Any) -> Iterator[Any]:
    """The base model with PEFT's LoRA wrappers swapped out for the layers they wrap, restored on exit.

    PEFT replaces each adapted Linear by a wrapper holding it as ``base_layer`` next to ``lora_A`` /
    ``lora_B``, so the base model's own save_pretrained would write '<module>.base_layer.weight' and
    the LoRA tensors. Putting the wrapped layers back for the duration of the save gives the original
    checkpoint layout whatever the layer type (also bitsandbytes 4-bit: transformers saves quantized
    models from their modules and ignores a state_dict argument). The user's model is left as it was."""
    base = peft_model.get_base_model()
    swapped = []
    try:
        for name, module in list(base.named_modules()):
            if ".modules_to_save" in name or name.endswith("modules_to_save"):
                raise UnsupportedError(f"PEFT modules_to_save ({name}): fully trained extra modules are not supported yet")
            inner = getattr(module, "base_layer", None)
            if inner is None or not hasattr(module, "lora_A"):
                continue
            parent_name, _, child = name.rpartition(".")
            parent = base.get_submodule(parent_name) if parent_name else base
            setattr(parent, child, inner)
            swapped.append((parent, child, module))
        yield base
    finally:
        for parent, child, module in reversed(swapped):
            setattr(parent, child, module)


def _checkpoint_name(model: Any, out: Path) -> str:
    """The converter names the model (general.name) after the checkpoint directory: the model's own
    name ('unsloth/Llama-3.2-1B-bnb-4bit' -> 'Llama-3.2-1B-bnb-4bit') when it has one, else the output
    file's stem."""
    config = getattr(model.get_base_model() if _is_peft(model) else model, "config", None)
    name = str(getattr(config, "name_or_path", "") or getattr(config, "_name_or_path", "") or "")
    name = name.rstrip("/").split("/")[-1]
    return name if name and name not in (".", "..") else (out.stem or "model")


def _save_tokenizer(tokenizer: Any, directory: Path) -> None:
    if tokenizer is None:
        if not (directory / "tokenizer.json").exists() and not (directory / "tokenizer.model").exists():
            raise InvalidArgumentError("export_to_llcuda: a tokenizer is needed (the GGUF carries the vocabulary): "
                                       "pass the tokenizer object or its directory")
        return
    if isinstance(tokenizer, (str, os.PathLike)):
        src = Path(tokenizer)
        if not src.is_dir():
            raise InvalidArgumentError(f"tokenizer directory not found: {src}")
        for name in _TOKENIZER_FILES:
            if (src / name).exists():
                shutil.copy2(src / name, directory / name)
        return
    if not hasattr(tokenizer, "save_pretrained"):
        raise InvalidArgumentError(f"tokenizer: expected a transformers tokenizer or a directory, got {type(tokenizer).__name__}")
    tokenizer.save_pretrained(str(directory))


def _save_model(model: Any, directory: Path) -> None:
    if not hasattr(model, "save_pretrained"):
        raise InvalidArgumentError(f"model: expected a transformers / PEFT model with save_pretrained, got {type(model).__name__}")
    model.save_pretrained(str(directory), safe_serialization=True)


def export_to_llcuda(model: Any, tokenizer: Any, out_path: PathLike, quant_type: str = "Q4_K_M",
                     merge_lora: bool = True, *, lora_out_path: Optional[PathLike] = None, n_threads: int = 0,
                     work_dir: Optional[PathLike] = None, progress: ProgressArg = True) -> Path:
    """Write an in-memory model as a GGUF file llcuda (and llama.cpp) can load.

    model: a transformers model, or a PEFT / Unsloth model with LoRA adapters; tokenizer: its
    tokenizer (or a directory with tokenizer.json). quant_type: "Q4_K_M" (default), "Q5_K_M",
    "Q6_K", "Q8_0", "F16", "BF16", "F32", "auto", ... (llama-quantize presets).
    merge_lora: for a PEFT model, merge the adapter into the weights (True), or export the base
    weights alone (False; with ``lora_out_path`` the adapter is also written there as a llama.cpp
    LoRA GGUF). The GGUF's general.name is the model's name_or_path (last part), else the output
    file's stem. work_dir: where the temporary checkpoint goes (default: the system temp directory;
    it needs about the model's size in its saved dtype). Returns the output path.
    """
    out = Path(out_path)
    if lora_out_path is not None and not (_is_peft(model) and not merge_lora):
        raise InvalidArgumentError("lora_out_path is for a PEFT model exported with merge_lora=False")
    with tempfile.TemporaryDirectory(prefix="llcuda-export-", dir=work_dir) as tmp:
        base_dir, adapter_dir = Path(tmp) / _checkpoint_name(model, out), Path(tmp) / "adapter"
        base_dir.mkdir()
        if _is_peft(model):
            _say(progress, f"saving the base weights to {base_dir}")
            with _lora_layers_removed(model) as base:
                _save_model(base, base_dir)
        else:
            _say(progress, f"saving the model to {base_dir}")
            _save_model(model, base_dir)
        _save_tokenizer(tokenizer, base_dir)
        if _is_peft(model) and (merge_lora or lora_out_path is not None):
            _say(progress, f"saving the LoRA adapter to {adapter_dir}")
            model.save_pretrained(str(adapter_dir))
            if not (adapter_dir / "adapter_config.json").exists():
                raise UnsupportedError("the PEFT model saved no adapter_config.json at the top level (several "
                                       "adapters? set the one to export active)")
        if _is_peft(model) and merge_lora:
            _say(progress, f"merging the adapter and writing {out} ({quant_type})")
            _merge_lora(base_dir, adapter_dir, out, quant_type, n_threads=n_threads, progress=progress)
        else:
            _say(progress, f"converting to {out} ({quant_type})")
            convert_to_gguf(base_dir, out, quant_type, n_threads=n_threads, progress=progress)
            if lora_out_path is not None:
                _say(progress, f"writing the LoRA adapter GGUF {lora_out_path}")
                _merge_lora(base_dir, adapter_dir, lora_out_path, "auto", lora_only=True, n_threads=n_threads,
                              progress=progress)
    return out



def merge_lora_adapters(base: Any, adapter_dir: PathLike, out_path: PathLike, quant_type: str = "auto", *,
                        tokenizer: Any = None, n_threads: int = 0, progress: ProgressArg = True) -> Path:
    """Merge a saved PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors) into a base and
    write GGUF. base: a Hugging Face model directory, a GGUF file, or an in-memory transformers model
    (then saved to a temporary directory first, with ``tokenizer``). quant_type: "auto" (HF base: its
    BF16/F16; GGUF base: each tensor keeps its type), "F16", "Q8_0", "Q4_K_M", ... Returns the output path."""
    out = Path(out_path)
    if isinstance(base, (str, os.PathLike)):
        _merge_lora(base, adapter_dir, out, quant_type, n_threads=n_threads, progress=progress)
        return out
    if _is_peft(base):
        raise InvalidArgumentError("merge_lora_adapters: base is a PEFT model already; use export_to_llcuda(model, ...)")
    with tempfile.TemporaryDirectory(prefix="llcuda-merge-") as tmp:
        base_dir = Path(tmp) / _checkpoint_name(base, out)
        base_dir.mkdir()
        _say(progress, f"saving the base model to {base_dir}")
        _save_model(base, base_dir)
        _save_tokenizer(tokenizer, base_dir)
        _merge_lora(base_dir, adapter_dir, out, quant_type, n_threads=n_threads, progress=progress)
    return out


__all__ = ["export_to_llcuda", "merge_lora_adapters"]
