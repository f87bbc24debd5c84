"""Quantization: bitsandbytes 4-bit on tensors, GGUF models, Hugging Face checkpoints, VRAM planning.

Everything runs in llcuda's C++ library (llcuda/quantize.h, convert.h, planner.h); this module only
converts arguments and results.

>>> from llcuda.quantization import quantize_nf4, dequantize_nf4, quantize, convert_to_gguf, recommend
>>> packed, state = quantize_nf4(weight)              # NumPy array or torch tensor, bitsandbytes' bytes
>>> restored = dequantize_nf4(packed, state)
>>> quantize("model-f16.gguf", "model-q4_k_m.gguf", "Q4_K_M")
>>> convert_to_gguf("my-finetune/", "my-finetune.gguf", quant_type="Q8_0")
>>> recommend("model.gguf", vram_gb=15).recommended_type      # 'Q6_K', ...
>>> DynamicQuantizer(target_vram_gb=15).recommend_config(model_size_gb=16)["quant_type"]

bitsandbytes compatibility: ``quantize_4bit`` gives the same packed bytes and statistics as
``bitsandbytes.functional.quantize_4bit`` (packed shape ``((n + 1) // 2, 1)`` uint8, element 2k in the
high nibble; absmax float32, or with ``double_quant`` uint8 codes plus a nested state), and
``dequantize_4bit`` decodes bitsandbytes' own data bit for bit. A C-contiguous float32 CPU input is
read in place (DLPack or the buffer protocol); other float types and GPU tensors are copied to host
float32 first. Results are NumPy arrays for NumPy input and torch tensors (on the input's device) for
torch input.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple, Union

import numpy as np

from . import _llcuda
from ._llcuda import GpuSpeedEstimate, Plan, PlanCandidate
from .errors import InvalidArgumentError, ModelNotFoundError

PathLike = Union[str, os.PathLike]

# ---------------------------------------------------------------------------------------------------
# Progress for the long native jobs (quantize, convert, export): a tqdm bar when tqdm is installed,
# else one line per tensor on stderr; or the caller's callable; or nothing. The native job reports
# with the GIL re-acquired and checks Ctrl-C there, so it stops between two tensors (outputs are
# written atomically: nothing is left behind).
ProgressArg = Union[bool, None, Callable[..., Any]]


class _Reporter:
    """Counts steps and shows them (tqdm bar, or lines on stderr)."""

    def __init__(self, desc: str, total: Optional[int]):
        self.desc, self.total, self.count = desc, total, 0
        try:
            from tqdm.auto import tqdm  # optional: only when already installed
        except ImportError:
            tqdm = None
        self.bar = tqdm(total=total, desc=desc, unit="tensor", leave=False) if tqdm is not None else None

    def step(self, what: str) -> None:
        self.count += 1
        if self.bar is not None:
            self.bar.set_postfix_str(what[:40], refresh=False)
            self.bar.update(1)
        else:
            total = f"/{self.total}" if self.total else ""
            print(f"{self.desc} [{self.count}{total}] {what}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _reporter(progress: ProgressArg, desc: str, total: Optional[int] = None):
    """(callback for the native job or None, closer). progress: True (show), False/None (silent), or a
    callable taking one line of text per step."""
    if progress is None or progress is False:
        return None, lambda: None
    if callable(progress):
        return progress, lambda: None
    r = _Reporter(desc, total)
    return r, r.close

# ---------------------------------------------------------------------------------------------------
# bitsandbytes 4-bit (NF4 / FP4)


@dataclass
class QuantState:
    """What bitsandbytes' ``QuantState`` holds, field for field (plain arrays or torch tensors).

    absmax: float32 per block, or uint8 codes when double-quantized (then ``offset`` and ``state2``,
    whose ``absmax`` is the float32 nested absmax per 256 blocks and ``code`` the 256-entry map).
    code: the 16 code values of ``quant_type``. shape / dtype: of the original tensor.
    """

    absmax: Any
    shape: Tuple[int, ...]
    code: Any
    blocksize: int
    quant_type: str
    dtype: Any
    offset: Optional[float] = None
    state2: Optional["QuantState"] = None

    @property
    def nested(self) -> bool:
        """Whether the statistics are double-quantized (bitsandbytes' compress_statistics)."""
        return self.state2 is not None


_FLOAT_DTYPES = ("float32", "float16", "bfloat16", "float64")


def _is_torch(x) -> bool:
    return type(x).__module__.split(".")[0] == "torch"


def _host_float32(tensor):
    """(float32 C-contiguous CPU array for the binding, original dtype, shape, torch device or None).
    No copy for float32 contiguous CPU input."""
    if _is_torch(tensor):
        import torch  # only reached with a torch tensor in hand
        name = str(tensor.dtype).replace("torch.", "")
        if name not in _FLOAT_DTYPES:
            raise InvalidArgumentError(f"quantize_4bit: tensor dtype {name} is not a float type ({', '.join(_FLOAT_DTYPES)})")
        t = tensor.detach()
        device = t.device
        if device.type != "cpu":
            t = t.cpu()
        if t.dtype != torch.float32:
            t = t.float()
        return t.contiguous(), tensor.dtype, tuple(tensor.shape), device
    if not isinstance(tensor, np.ndarray):
        if hasattr(tensor, "__dlpack__"):
            tensor = np.from_dlpack(tensor)
        else:
            try:
                tensor = np.asarray(memoryview(tensor))
            except TypeError:
                raise InvalidArgumentError(f"quantize_4bit: expected a NumPy array, torch tensor or buffer, "
                                           f"got {type(tensor).__name__}") from None
    if tensor.dtype.name not in _FLOAT_DTYPES:
        raise InvalidArgumentError(f"quantize_4bit: array dtype {tensor.dtype} is not a float type (float32, float16, float64)")
    return np.ascontiguousarray(tensor, dtype=np.float32), tensor.dtype, tuple(tensor.shape), None


def _like_input(a: np.ndarray, device):
    """NumPy result -> torch tensor on `device` when the input was torch (no copy on the CPU)."""
    if device is None:
        return a
    import torch
    t = torch.from_numpy(a)
    return t if device.type == "cpu" else t.to(device)


def _to_numpy(x, what: str, dtype) -> np.ndarray:
    if _is_torch(x):
        x = x.detach().cpu().numpy()
    a = np.asarray(x)
    if a.dtype != dtype:
        raise InvalidArgumentError(f"dequantize_4bit: {what} must be {np.dtype(dtype).name}, got {a.dtype}")
    return np.ascontiguousarray(a).ravel()


def quantize_4bit(tensor, blocksize: int = 64, double_quant: bool = False, quant_type: str = "nf4"):
    """bitsandbytes-compatible block-wise 4-bit quantization (``bitsandbytes.functional.quantize_4bit``
    with ``compress_statistics=double_quant``). Returns ``(packed, QuantState)``; packed is uint8 of
    shape ``((n + 1) // 2, 1)``. blocksize: a power of two in 32..4096."""
    if quant_type not in ("nf4", "fp4"):
        raise InvalidArgumentError(f"quant_type {quant_type!r}: expected 'nf4' or 'fp4'")
    if isinstance(blocksize, bool) or not isinstance(blocksize, int):
        raise InvalidArgumentError(f"blocksize must be an int, got {blocksize!r}")
    x, dtype, shape, device = _host_float32(tensor)
    n = int(np.prod(shape)) if shape else 1
    if n == 0:
        raise InvalidArgumentError("quantize_4bit: the tensor is empty")
    parts = _llcuda.bnb4_quantize(x, quant_type, blocksize, bool(double_quant))
    code = _llcuda.bnb4_code_values(quant_type)
    packed = parts["packed"].reshape(-1, 1)
    if parts["double_quant"]:
        state2 = QuantState(absmax=_like_input(parts["nested_absmax"], device), shape=(len(parts["nested_absmax"]),),
                            code=_like_input(parts["nested_map"], device), blocksize=256, quant_type="dynamic",
                            dtype=np.float32 if device is None else _torch_float32())
        state = QuantState(absmax=_like_input(parts["absmax_codes"], device), shape=shape, code=_like_input(code, device),
                           blocksize=blocksize, quant_type=quant_type, dtype=dtype, offset=float(parts["nested_offset"]),
                           state2=state2)
    else:
        state = QuantState(absmax=_like_input(parts["absmax"], device), shape=shape, code=_like_input(code, device),
                           blocksize=blocksize, quant_type=quant_type, dtype=dtype)
    return _like_input(packed, device), state


def _torch_float32():
    import torch
    return torch.float32


def dequantize_4bit(packed, state: QuantState):
    """Decode ``(packed, state)`` (ours or bitsandbytes' own) to a tensor of ``state.shape`` and
    ``state.dtype`` (computed in float32, as bitsandbytes does, then cast)."""
    if not isinstance(state, QuantState):
        # bitsandbytes' own QuantState has the same attribute names.
        if not all(hasattr(state, a) for a in ("absmax", "shape", "blocksize", "quant_type")):
            raise InvalidArgumentError(f"dequantize_4bit: state must be a QuantState, got {type(state).__name__}")
    device = packed.device if _is_torch(packed) else None
    shape = tuple(state.shape)
    n = int(np.prod(shape)) if shape else 1
    p = _to_numpy(packed, "packed", np.uint8)
    nested = getattr(state, "state2", None)
    if nested is not None:
        out = _llcuda.bnb4_dequantize(p, _to_numpy(state.absmax, "absmax codes", np.uint8), state.quant_type,
                                      int(state.blocksize), n, _to_numpy(nested.absmax, "state2.absmax", np.float32),
                                      _to_numpy(nested.code, "state2.code", np.float32), float(state.offset))
    else:
        out = _llcuda.bnb4_dequantize(p, _to_numpy(state.absmax, "absmax", np.float32), state.quant_type,
                                      int(state.blocksize), n)
    out = out.reshape(shape)
    if device is None:
        return out if np.dtype(state.dtype) == np.float32 else out.astype(state.dtype)
    return _like_input(out, device).to(state.dtype)


def quantize_nf4(tensor, blocksize: int = 64, double_quant: bool = True):
    """NF4 quantization, bitsandbytes-compatible (``quantize_4bit(..., quant_type="nf4")``; double
    quantization on by default, as QLoRA / Unsloth checkpoints use it). Returns ``(packed, QuantState)``."""
    return quantize_4bit(tensor, blocksize=blocksize, double_quant=double_quant, quant_type="nf4")


def dequantize_nf4(packed, state: QuantState):
    """Decode NF4 data (``dequantize_4bit`` for a state whose quant_type is 'nf4')."""
    if state.quant_type != "nf4":
        raise InvalidArgumentError(f"dequantize_nf4: the state's quant_type is {state.quant_type!r}, not 'nf4'")
    return dequantize_4bit(packed, state)


def quantize_fp4(tensor, blocksize: int = 64, double_quant: bool = False):
    """FP4 quantization, bitsandbytes-compatible. Returns ``(packed, QuantState)``."""
    return quantize_4bit(tensor, blocksize=blocksize, double_quant=double_quant, quant_type="fp4")


# ---------------------------------------------------------------------------------------------------
# GGUF models and Hugging Face checkpoints


def _existing(path: PathLike, what: str) -> str:
    p = os.fspath(path)
    if not os.path.exists(p):
        raise ModelNotFoundError(f"{what} not found: {p}")
    return p


def quantize(in_path: PathLike, out_path: PathLike, quant_type: str = "Q4_K_M", *, n_threads: int = 0,
             pure: bool = False, leave_output: bool = False, allow_requantize: bool = False,
             output_type: Optional[str] = None, token_embedding_type: Optional[str] = None,
             imatrix: Optional[PathLike] = None, progress: ProgressArg = True) -> Dict[str, Any]:
    """Re-quantize a GGUF model with a llama-quantize preset ("Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0",
    "IQ4_XS", "F16", ...), exactly as ``llcuda quantize IN OUT TYPE`` does (same per-tensor rules, same
    bytes); written atomically. Returns the report: ``tensors`` (name, from, to, bytes_in, bytes_out,
    used_imatrix), ``file_type``, ``bytes_in``, ``bytes_out``. progress: True (bar or lines on stderr),
    False, or a callable taking one line per tensor that changes type."""
    src = _existing(in_path, "input model")
    show, close = _reporter(progress, "quantize")   # the job reports the tensors it converts, not copies
    cb = None if show is None else (lambda name, frm, to: _step(show, f"{name} {frm} -> {to}"))
    try:
        return _llcuda.quantize_model(src, os.fspath(out_path), quant_type, n_threads, pure, leave_output,
                                      allow_requantize, output_type, token_embedding_type,
                                      None if imatrix is None else os.fspath(imatrix), cb)
    finally:
        close()


def _step(show, text: str) -> None:
    if isinstance(show, _Reporter):
        show.step(text)
    else:
        show(text)


def _convert_progress(show):
    return None if show is None else (lambda i, n, what: _step(show, what))


def convert_to_gguf(model_dir: PathLike, out_path: PathLike, quant_type: str = "auto", *, n_threads: int = 0,
                    progress: ProgressArg = True) -> Dict[str, Any]:
    """Convert a Hugging Face model directory (config.json, *.safetensors — also sharded or
    bitsandbytes 4-bit — and the tokenizer files) to GGUF, as ``llcuda convert DIR OUT --type T`` does.
    quant_type: "auto" (BF16/F16 like the source), "F32", "F16", "BF16", "Q8_0" or a llama-quantize
    preset ("Q4_K_M", ...). Returns the report: ``architecture``, ``tensors`` (name, ne, type)."""
    src = _existing(model_dir, "model directory")
    show, close = _reporter(progress, "convert")
    try:
        return _llcuda.convert_hf_to_gguf(src, os.fspath(out_path), quant_type, n_threads, _convert_progress(show))
    finally:
        close()


def merge_lora(base: PathLike, adapter_dir: PathLike, out_path: PathLike, quant_type: str = "auto", *,
               lora_only: bool = False, n_threads: int = 0, progress: ProgressArg = True) -> Dict[str, Any]:
    """Merge a PEFT LoRA adapter directory into a base (HF directory or GGUF file) and write GGUF, as
    ``llcuda export --base BASE --lora ADAPTER OUT`` does (W += scale * B A in float32, then convert or
    quantize); lora_only writes a llama.cpp LoRA GGUF instead. The report has ``n_merged_lora``."""
    b = _existing(base, "base model")
    a = _existing(adapter_dir, "adapter directory")
    show, close = _reporter(progress, "export")
    try:
        return _llcuda.export_lora(b, a, os.fspath(out_path), quant_type, n_threads, lora_only, _convert_progress(show))
    finally:
        close()


# ---------------------------------------------------------------------------------------------------
# VRAM planning

_UNITS = {"": None, "k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}


def parse_param_count(value: Union[int, float, str]) -> int:
    """A parameter count: an int (a count), or text like "8B", "135M", "8e9", "1.5T" (as ``llcuda
    recommend --params``: a bare number below a million means billions)."""
    if isinstance(value, bool):
        raise InvalidArgumentError(f"parameter count {value!r}")
    if isinstance(value, (int, float)):
        n = float(value)
        scale = 1e9 if n < 1e6 else 1.0
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMbBgGtT]?)\s*", str(value))
        if not m:
            raise InvalidArgumentError(f"parameter count {value!r}: give a number such as 8B, 8e9, 8000M or 135M")
        n = float(m.group(1))
        scale = _UNITS[m.group(2).lower()] or (1e9 if n < 1e6 else 1.0)
    if not n > 0 or n * scale > 1e15:
        raise InvalidArgumentError(f"parameter count {value!r}: must be positive (and below 1e15)")
    return int(n * scale)


def _model_or_params(model) -> Tuple[Optional[str], int]:
    if isinstance(model, (int, float)) and not isinstance(model, bool):
        return None, parse_param_count(model)
    text = os.fspath(model)
    if os.path.exists(text):
        return text, 0
    if re.fullmatch(r"\s*[0-9.]+(?:[eE][+-]?[0-9]+)?\s*[kKmMbBgGtT]?\s*", text):
        return None, parse_param_count(text)
    from .models import resolve_model  # a "repo:file" or well-known name in the model cache
    return os.fspath(resolve_model(text)), 0


def recommend(model: Union[PathLike, int, str], vram_gb: float, *, context: int = 4096, parallel: int = 1,
              strategy: str = "balanced") -> Plan:
    """The VRAM planner's answer (``llcuda recommend``): which preset and KV-cache type to use and how
    much context fits. model: a GGUF file or model name (sizes planned tensor by tensor), or a
    parameter count (``8_000_000_000``, ``"8B"``, ``"135M"``: nominal sizes). strategy: aggressive |
    balanced | quality | minimal. Returns a Plan (``recommended_type`` is '' when nothing fits)."""
    path, n_params = _model_or_params(model)
    if isinstance(vram_gb, bool) or not isinstance(vram_gb, (int, float)) or not vram_gb > 0:
        raise InvalidArgumentError(f"vram_gb must be a positive number of GiB, got {vram_gb!r}")
    return _llcuda.plan_deployment(path, n_params, float(vram_gb), int(context), int(parallel), strategy)


def plan_to_dict(plan: Plan) -> Dict[str, Any]:
    """A Plan as the dict ``llcuda recommend --json`` prints (same keys and values)."""
    d: Dict[str, Any] = {
        "model": plan.model_name, "parameters": plan.n_params, "budget_bytes": plan.budget_bytes,
        "exact_sizes": plan.exact_sizes,
        "kv_bytes_per_token": {"f16": plan.kv_bytes_per_token_f16, "q8_0": plan.kv_bytes_per_token_q8_0},
        "workspace_bytes": plan.workspace_bytes,
        "candidates": [{"type": c.type, "weight_bytes": c.weight_bytes, "bits_per_weight": c.bits_per_weight,
                        "max_context_f16": c.max_context_f16, "max_context_q8_0": c.max_context_q8_0, "fits": c.fits}
                       for c in plan.candidates],
        "recommended": None if not plan.recommended_type else {
            "type": plan.recommended_type, "kv_type": plan.recommended_kv_type, "max_context": plan.recommended_context,
            "total_bytes": plan.recommended_total_bytes, "compression_vs_f16": plan.compression_vs_f16},
    }
    if plan.speed:
        d["decode_ceiling_tok_s"] = {s.gpu: s.roofline_tok_s for s in plan.speed}
    return d


class DynamicQuantizer:
    """The earlier llcuda package's planner object, answered by llcuda's planner:

    >>> DynamicQuantizer(target_vram_gb=15).recommend_config(model_size_gb=16)
    {'quant_type': 'Q6_K', 'kv_cache_type': 'f16', 'ctx_size': ..., 'expected_vram_gb': ..., ...}
    """

    def __init__(self, target_vram_gb: float, strategy: str = "balanced"):
        """target_vram_gb: the GPU memory budget (GiB); strategy: aggressive | balanced | quality | minimal."""
        self.target_vram_gb = target_vram_gb
        self.strategy = strategy

    def recommend_config(self, model_size_gb: Optional[float] = None, *, model: Optional[PathLike] = None,
                         n_params: Union[int, str, None] = None, context: int = 4096, parallel: int = 1) -> Dict[str, Any]:
        """The recommended configuration for a model given by its F16 size in GB (10^9 bytes, 2 bytes
        per parameter: ``model_size_gb=16`` is an 8B model), a GGUF file (``model=``) or a parameter
        count (``n_params=``). Returns quant_type (None when nothing fits), kv_cache_type, ctx_size
        (the largest context that fits), n_gpu_layers (-1: all, 0: none fit), expected_vram_gb (at
        ``context``), compression_ratio, expected_speed_tps (decode ceiling per known GPU) and the plan."""
        given = [x is not None for x in (model_size_gb, model, n_params)]
        if sum(given) != 1:
            raise InvalidArgumentError("recommend_config: give exactly one of model_size_gb, model= or n_params=")
        if model_size_gb is not None:
            if isinstance(model_size_gb, bool) or not isinstance(model_size_gb, (int, float)) or not model_size_gb > 0:
                raise InvalidArgumentError(f"model_size_gb must be a positive number, got {model_size_gb!r}")
            target: Any = int(model_size_gb * 1e9 / 2)
        else:
            target = model if model is not None else parse_param_count(n_params)
        plan = recommend(target, self.target_vram_gb, context=context, parallel=parallel, strategy=self.strategy)
        fits = bool(plan.recommended_type)
        return {
            "quant_type": plan.recommended_type or None,
            "kv_cache_type": plan.recommended_kv_type or None,
            "ctx_size": plan.recommended_context,
            "n_gpu_layers": -1 if fits else 0,
            "expected_vram_gb": plan.recommended_total_bytes / 2**30,
            "compression_ratio": plan.compression_vs_f16,
            "expected_speed_tps": {s.gpu: s.roofline_tok_s for s in plan.speed},
            "plan": plan,
        }


__all__ = [
    "QuantState", "quantize_4bit", "dequantize_4bit", "quantize_nf4", "dequantize_nf4", "quantize_fp4", "quantize",
    "convert_to_gguf", "merge_lora", "recommend", "plan_to_dict", "parse_param_count", "DynamicQuantizer", "Plan",
    "PlanCandidate", "GpuSpeedEstimate",
]
