"""Exceptions raised by llcuda.

Every error the native library reports (a missing file, a bad parameter, a malformed GGUF, ...)
arrives as a subclass of :class:`LlcudaError` that also derives from the builtin exception a Python
programmer would catch for it (``ValueError``, ``FileNotFoundError``, ``MemoryError``, ...). The
message names the problem. ``InferenceEngine.infer`` is the one call that does not raise: it reports
failure in ``InferResult.success`` / ``error_message``, as existing llcuda code expects.
"""

from . import _llcuda


class LlcudaError(Exception):
    """Base class of every error llcuda raises."""


class InvalidArgumentError(LlcudaError, ValueError):
    """A parameter or request the caller can fix (out-of-range value, prompt longer than the context,
    no model loaded)."""


class NotFoundError(LlcudaError, LookupError):
    """A key, tensor or token that does not exist."""


class ModelNotFoundError(NotFoundError, FileNotFoundError):
    """A model file, cached model or well-known model name that cannot be found."""


class FormatError(LlcudaError, ValueError):
    """A malformed or truncated file."""


class UnsupportedError(LlcudaError, NotImplementedError):
    """Well-formed input this version cannot handle (a tensor type, an architecture, a version)."""


class LlcudaIOError(LlcudaError, OSError):
    """The operating system refused a read, write, map or rename."""


class OutOfMemoryError(LlcudaError, MemoryError):
    """A host or device allocation failed (or the KV cache is full)."""


class InternalError(LlcudaError, RuntimeError):
    """A broken invariant inside llcuda: a bug, please report it."""


# llcuda::ErrorKind -> class (ModelNotFoundError is raised by model-name resolution, before the engine).
_llcuda._set_error_classes(
    {
        "invalid_argument": InvalidArgumentError,
        "not_found": NotFoundError,
        "format_error": FormatError,
        "unsupported": UnsupportedError,
        "io": LlcudaIOError,
        "out_of_memory": OutOfMemoryError,
        "internal": InternalError,
    }
)

__all__ = [
    "LlcudaError",
    "InvalidArgumentError",
    "NotFoundError",
    "ModelNotFoundError",
    "FormatError",
    "UnsupportedError",
    "LlcudaIOError",
    "OutOfMemoryError",
    "InternalError",
]
