"""Model names: a GGUF path, a ``"repo:file"`` Hugging Face name, or a well-known short name.

Names resolve to files in the model cache (``model_cache_dir()``: ``$LLCUDA_MODEL_CACHE``, else
``~/.cache/llcuda/models``, the same folder the ``llcuda`` program and ``scripts/fetch-models.sh``
use). A ``"owner/repo:file.gguf"`` name is looked up as ``<cache>/<owner>/<repo>/<file>``, then as
``<cache>/<file>`` (where fetch-models.sh puts files); a missing file is downloaded from the Hugging
Face hub into the first of those (resumable, checked against the sha256 the hub announces). The
resolution and the download are the C++ library's (``llcuda/hub.h``), shared with ``llcuda -hf``.
Offline (``HF_HUB_OFFLINE=1`` or ``offline=True``) only the cache is used. ``HF_ENDPOINT`` points at
a hub mirror; ``HF_TOKEN`` is sent for gated or private repositories. Nothing here runs at import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional, Union

from . import _llcuda
from .errors import InvalidArgumentError, ModelNotFoundError, NotFoundError


@dataclass(frozen=True)
class KnownModel:
    """A well-known model name: where it lives on the hub, and optionally the file name under which
    scripts/fetch-models.sh stores it in the cache."""

    repo: str
    file: str
    cache_file: Optional[str] = None
    description: str = ""

    @property
    def hf_name(self) -> str:
        """The ``"repo:file"`` form."""
        return f"{self.repo}:{self.file}"


# Short names existing llcuda users pass to load_model, plus the two small models the project tests
# with; the table lives in the C++ library (src/hub/well_known.cpp) so that the llcuda program knows
# the same names.
WELL_KNOWN: Dict[str, KnownModel] = {
    name: KnownModel(repo, file, cache_file or None, description)
    for name, repo, file, cache_file, description in _llcuda.well_known_models()
}


def model_cache_dir() -> Path:
    """Where llcuda keeps models: ``$LLCUDA_MODEL_CACHE``, else ``~/.cache/llcuda/models``."""
    return Path(_llcuda.model_cache_dir())


def default_model_path() -> Path:
    """The built-in default model (SmolLM2-135M-Instruct Q4_1) in the cache."""
    return Path(_llcuda.default_model_path())


def cache_candidates(name: str) -> list:
    """The cache paths a ``"repo:file"`` or well-known name is looked up at, in order (empty for a
    string that is no such name)."""
    try:
        return [Path(p) for p in _llcuda.hub_cache_candidates(name)]
    except InvalidArgumentError:
        return []


ProgressCallback = Callable[[int, int], Optional[bool]]


def resolve_model(model_name_or_path: Union[str, os.PathLike], *, offline: Optional[bool] = None,
                  progress: Optional[ProgressCallback] = None) -> Path:
    """The GGUF file a model name stands for, downloading it into the cache when it is missing.

    Accepts an existing file path, a well-known short name (:data:`WELL_KNOWN`) or a
    ``"owner/repo:file.gguf"`` name (``"owner/repo@revision:file"`` for another revision than main).
    ``offline``: True uses the cache only; None follows ``$HF_HUB_OFFLINE``. ``progress(downloaded,
    total)`` is called during a download (total is 0 when unknown); returning False stops it, and the
    partial file is kept so that the next call resumes. Ctrl-C stops a download too.
    Raises :class:`~llcuda.errors.ModelNotFoundError` (no such file or name, not in the cache while
    offline, 404 on the hub), :class:`~llcuda.errors.InvalidArgumentError` (a malformed name, the
    hub refused the token), :class:`~llcuda.errors.FormatError` (the download failed its size or
    sha256 check), :class:`~llcuda.errors.LlcudaIOError` (network, disk),
    :class:`~llcuda.errors.UnsupportedError` (built without download support).
    """
    if not isinstance(model_name_or_path, (str, os.PathLike)):
        raise InvalidArgumentError(
            f"model_name_or_path must be a str or path, not {type(model_name_or_path).__name__}")
    name = os.fspath(model_name_or_path)
    if not isinstance(name, str):
        raise InvalidArgumentError("model_name_or_path must be a text path, not bytes")
    if not name:
        raise InvalidArgumentError("model_name_or_path is empty")
    if offline is not None and not isinstance(offline, bool):
        raise InvalidArgumentError(f"offline must be a bool or None, not {type(offline).__name__}")
    if progress is not None and not callable(progress):
        raise InvalidArgumentError("progress must be callable (downloaded, total) or None")
    path = Path(name).expanduser()
    if path.exists():  # a file, or something the engine will refuse by name (a directory, ...)
        return path
    if not isinstance(model_name_or_path, str):  # a PathLike is a path, never a hub name
        raise ModelNotFoundError(f"model file '{name}' not found")
    try:
        return Path(_llcuda.hub_resolve(name, offline, progress))
    except NotFoundError as e:
        if isinstance(e, ModelNotFoundError):
            raise
        raise ModelNotFoundError(str(e)) from None


def download_supported() -> bool:
    """Whether this build can download models from the hub (it was built with libcurl)."""
    return bool(_llcuda.hub_download_supported())


__all__ = ["KnownModel", "WELL_KNOWN", "model_cache_dir", "default_model_path", "cache_candidates", "resolve_model",
           "download_supported", "ProgressCallback"]
