#!/usr/bin/env python3
"""Golden files for the GGUF reader, made with llama.cpp's own reader (the `gguf` package).

For each real model it records what gguf.GGUFReader sees: version, alignment, data offset, every
metadata key with its value type and value (arrays: element type, count, the first elements and a
CRC-32 of the elements' on-disk encoding), and every tensor's name, ggml type, shape (ggml order),
offset, byte size and a CRC-32 of its data. tests/gguf/real_models_test.cpp compares llcuda's reader
with these files.

Usage: python3 tests/oracles/gguf_golden.py [MODEL_CACHE]   (default ~/.cache/llcuda/models)
"""
import json
import os
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
from gguf import GGUFReader, GGUFValueType

MODELS = {
    "smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf",
    "gemma3": "gemma-3-270m-q4_k_m.gguf",
}
HEAD = 8  # array elements stored verbatim

TYPE_NAMES = {
    GGUFValueType.UINT8: "u8", GGUFValueType.INT8: "i8", GGUFValueType.UINT16: "u16",
    GGUFValueType.INT16: "i16", GGUFValueType.UINT32: "u32", GGUFValueType.INT32: "i32",
    GGUFValueType.FLOAT32: "f32", GGUFValueType.BOOL: "bool", GGUFValueType.STRING: "string",
    GGUFValueType.ARRAY: "array", GGUFValueType.UINT64: "u64", GGUFValueType.INT64: "i64",
    GGUFValueType.FLOAT64: "f64",
}


def scalar(part: np.ndarray, vtype: GGUFValueType):
    if vtype == GGUFValueType.STRING:
        return bytes(part).decode("utf-8", errors="surrogateescape")
    value = part[0]
    if vtype == GGUFValueType.BOOL:
        return bool(value)
    if vtype in (GGUFValueType.FLOAT32, GGUFValueType.FLOAT64):
        return float(value)
    return int(value)


def describe_field(field) -> dict:
    vtype = field.types[0]
    entry = {"key": field.name, "type": TYPE_NAMES[vtype]}
    if vtype != GGUFValueType.ARRAY:
        entry["value"] = scalar(field.parts[field.data[0]], vtype)
        return entry
    elem = field.types[1] if len(field.types) > 1 else GGUFValueType.UINT8
    entry["element_type"] = TYPE_NAMES[elem]
    entry["count"] = len(field.data)
    parts = [field.parts[i] for i in field.data]
    if elem == GGUFValueType.STRING:
        encoded = b"".join(struct.pack("<Q", len(bytes(p))) + bytes(p) for p in parts)
    else:
        encoded = b"".join(p.tobytes() for p in parts)
    entry["crc32"] = zlib.crc32(encoded)
    entry["head"] = [scalar(p, elem) for p in parts[:HEAD]]
    return entry


def describe_model(path: Path) -> dict:
    reader = GGUFReader(path)
    version_field = reader.fields["GGUF.version"]
    out = {
        "file": path.name,
        "file_size": path.stat().st_size,
        "version": int(version_field.parts[version_field.data[0]][0]),
        "alignment": int(reader.alignment),
        "data_offset": int(reader.data_offset),
        "metadata": [describe_field(f) for name, f in reader.fields.items() if not name.startswith("GGUF.")],
        "tensors": [],
    }
    for t in reader.tensors:
        data = np.ascontiguousarray(t.data).view(np.uint8)
        out["tensors"].append({
            "name": t.name,
            "type": int(t.tensor_type),
            "ne": [int(x) for x in t.shape],
            "offset": int(t.data_offset) - int(reader.data_offset),
            "n_bytes": int(t.n_bytes),
            "crc32": zlib.crc32(data.tobytes()),
        })
    return out


def main() -> None:
    cache = Path(sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/llcuda/models"))
    out_dir = Path(__file__).resolve().parent.parent / "golden" / "gguf"
    out_dir.mkdir(parents=True, exist_ok=True)
    for label, filename in MODELS.items():
        golden = describe_model(cache / filename)
        (out_dir / f"{label}.json").write_text(json.dumps(golden, indent=1, ensure_ascii=False) + "\n")
        print(f"{label}: {len(golden['metadata'])} keys, {len(golden['tensors'])} tensors")


if __name__ == "__main__":
    main()
