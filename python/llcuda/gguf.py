"""Reading GGUF files: ``llcuda.gguf.read(path)`` gives the metadata as Python values, the tensor
table, and each tensor's data as a read-only NumPy array that views the memory-mapped file (no
copy). The reader is llcuda's own C++ one (every size and offset bounds-checked: a malformed file
raises FormatError naming what is wrong and where).

>>> f = llcuda.gguf.read("model.gguf")
>>> f.metadata["general.architecture"]
>>> [(t.name, t.type, t.shape) for t in f.tensors][:3]
>>> f.tensor("output_norm.weight")          # numpy.ndarray, float32
"""

from __future__ import annotations

import os
from typing import Union

from ._llcuda import GgufFile, GgufTensorInfo


def read(path: Union[str, os.PathLike]) -> GgufFile:
    """Open and parse a GGUF file (memory-mapped; tensors are read only when asked for)."""
    return GgufFile.open(os.fspath(path))


__all__ = ["read", "GgufFile", "GgufTensorInfo"]
