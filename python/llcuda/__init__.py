"""llcuda: run GGUF language models in-process, on NVIDIA GPUs (CUDA backend) or the CPU.

>>> import llcuda
>>> engine = llcuda.InferenceEngine()
>>> engine.load_model("/path/to/model.gguf")          # or "owner/repo:file.gguf", "gemma-3-1b-Q4_K_M"
>>> print(engine.infer("The capital of France is", max_tokens=16).text)
>>> for piece in engine.stream("Once upon a time"):
...     print(piece, end="", flush=True)
>>> engine.create_chat_completion([{"role": "user", "content": "Hi!"}])["choices"][0]["message"]

The engine is the C++ library (``llcuda._llcuda``, a nanobind extension); this package only converts
arguments and results. Importing it touches neither the network nor the GPU.
"""

from . import _llcuda
from ._llcuda import (Backend, ChatMessage, GpuDevice, GpuQuery, InferenceResult, KvCacheType, LoadOptions, ModelInfo,
                      SamplingParams, TokenLogprob, query_gpus)
from .engine import InferenceEngine, InferResult
from .errors import (FormatError, InternalError, InvalidArgumentError, LlcudaError, LlcudaIOError, ModelNotFoundError,
                     NotFoundError, OutOfMemoryError, UnsupportedError)
from . import gguf, quantization, unsloth
from .models import WELL_KNOWN, default_model_path, model_cache_dir, resolve_model

__version__: str = _llcuda.__version__
"""The llcuda version (the C++ project's)."""


def cuda_built() -> bool:
    """Whether this build of llcuda has the CUDA backend (a GPU may still be absent: see query_gpus)."""
    return _llcuda.cuda_built()


def check_cuda_available() -> bool:
    """Whether a GPU llcuda can use is present (CUDA build, driver and a device)."""
    return bool(query_gpus().devices)


__all__ = [
    "InferenceEngine", "InferResult", "SamplingParams", "LoadOptions", "Backend", "KvCacheType", "ChatMessage",
    "InferenceResult", "TokenLogprob", "ModelInfo", "GpuDevice", "GpuQuery", "query_gpus", "cuda_built",
    "check_cuda_available", "gguf", "quantization", "unsloth", "model_cache_dir", "default_model_path", "resolve_model", "WELL_KNOWN",
    "LlcudaError", "InvalidArgumentError", "NotFoundError", "ModelNotFoundError", "FormatError", "UnsupportedError",
    "LlcudaIOError", "OutOfMemoryError", "InternalError", "__version__",
]
