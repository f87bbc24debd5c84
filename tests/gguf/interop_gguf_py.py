#!/usr/bin/env python3
"""Interop check: files written by llcuda are read by the `gguf` package (llama.cpp's own reader)
with identical metadata and tensor bytes, and are byte-identical to what gguf.GGUFWriter writes
from the same content.

Usage: interop_gguf_py.py PATH/TO/gguf_from_spec
Builds several random specs (fixed seeds), has llcuda write each one, and checks both properties.
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter
from gguf.constants import GGML_QUANT_SIZES

SCALARS = {
    "u8": (GGUFValueType.UINT8, np.uint8), "i8": (GGUFValueType.INT8, np.int8),
    "u16": (GGUFValueType.UINT16, np.uint16), "i16": (GGUFValueType.INT16, np.int16),
    "u32": (GGUFValueType.UINT32, np.uint32), "i32": (GGUFValueType.INT32, np.int32),
    "f32": (GGUFValueType.FLOAT32, np.float32), "bool": (GGUFValueType.BOOL, np.bool_),
    "string": (GGUFValueType.STRING, None), "u64": (GGUFValueType.UINT64, np.uint64),
    "i64": (GGUFValueType.INT64, np.int64), "f64": (GGUFValueType.FLOAT64, np.float64),
}
TENSOR_TYPES = [GGMLQuantizationType.F32, GGMLQuantizationType.F16, GGMLQuantizationType.BF16,
                GGMLQuantizationType.Q4_0, GGMLQuantizationType.Q8_0, GGMLQuantizationType.Q4_K,
                GGMLQuantizationType.Q6_K, GGMLQuantizationType.IQ4_XS, GGMLQuantizationType.I32,
                GGMLQuantizationType.TQ2_0, GGMLQuantizationType.MXFP4]
WORDS = ["", "a", "llama", "héllo", "▁world", "世界", "emoji 🦙", "tab\tnew\nline", "x" * 300]


def random_value(rng, name):
    if name == "string":
        return str(rng.choice(WORDS))
    if name == "bool":
        return bool(rng.integers(0, 2))
    if name in ("f32", "f64"):
        value = float(rng.normal() * 10 ** int(rng.integers(-5, 6)))
        return float(np.float32(value)) if name == "f32" else value
    info = np.iinfo(SCALARS[name][1])
    return int(rng.integers(info.min, info.max, dtype=np.int64 if info.max < 2**63 else np.uint64, endpoint=True))


def make_spec(seed, tmp: Path):
    rng = np.random.default_rng(seed)
    kvs = [{"key": "general.architecture", "type": "string", "value": "llama"}]
    alignment = [None, 64, 128][seed % 3]
    if alignment:
        kvs.append({"key": "general.alignment", "type": "u32", "value": alignment})
    for i, name in enumerate(SCALARS):
        kvs.append({"key": f"test.scalar.{name}.{i}", "type": name, "value": random_value(rng, name)})
        n = int(rng.integers(1, 40))
        kvs.append({"key": f"test.array.{name}.{i}", "type": "array", "element_type": name,
                    "values": [random_value(rng, name) for _ in range(n)]})
    tensors, blob = [], bytearray()
    for i in range(int(rng.integers(1, 9))):
        qtype = TENSOR_TYPES[int(rng.integers(0, len(TENSOR_TYPES)))]
        block, type_size = GGML_QUANT_SIZES[qtype]
        n_dims = int(rng.integers(1, 5))
        ne = [block * int(rng.integers(1, 4))] + [int(rng.integers(1, 4)) for _ in range(n_dims - 1)]
        n_bytes = int(np.prod(ne)) // block * type_size
        data = rng.integers(0, 256, n_bytes, dtype=np.uint8).tobytes()
        tensors.append({"name": f"blk.{i}.weight", "type": int(qtype), "ne": ne,
                        "data_offset": len(blob), "data_size": n_bytes})
        blob += data
    (tmp / "data.bin").write_bytes(bytes(blob))
    return {"kv": kvs, "tensors": tensors, "data_file": str(tmp / "data.bin"), "alignment": alignment}


def write_reference(spec, path: Path):
    blob = Path(spec["data_file"]).read_bytes()
    w = GGUFWriter(str(path), arch="llama")
    for kv in spec["kv"][1:]:
        if kv["key"] == "general.alignment":
            w.add_custom_alignment(kv["value"])
        elif kv["type"] == "array":
            w.add_key_value(kv["key"], kv["values"], GGUFValueType.ARRAY, sub_type=SCALARS[kv["element_type"]][0])
        else:
            w.add_key_value(kv["key"], kv["value"], SCALARS[kv["type"]][0])
    for t in spec["tensors"]:
        raw = np.frombuffer(blob, dtype=np.uint8, count=t["data_size"], offset=t["data_offset"])
        qtype = GGMLQuantizationType(t["type"])
        block, type_size = GGML_QUANT_SIZES[qtype]
        # gguf-py takes quantized data as uint8 with a byte shape: numpy order, last dim = bytes per row.
        byte_shape = list(reversed(t["ne"][1:])) + [t["ne"][0] // block * type_size]
        w.add_tensor(t["name"], raw.reshape(byte_shape), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def field_value(field):
    vtype = field.types[0]
    def one(part, t):
        if t == GGUFValueType.STRING:
            return bytes(part).decode("utf-8")
        v = part[0]
        return bool(v) if t == GGUFValueType.BOOL else (float(v) if t in (GGUFValueType.FLOAT32, GGUFValueType.FLOAT64) else int(v))
    if vtype == GGUFValueType.ARRAY:
        return [one(field.parts[i], field.types[1]) for i in field.data]
    return one(field.parts[field.data[0]], vtype)


def check_read_back(spec, path: Path, errors: list):
    reader = GGUFReader(path)
    fields = [f for name, f in reader.fields.items() if not name.startswith("GGUF.")]
    if [f.name for f in fields] != [kv["key"] for kv in spec["kv"]]:
        errors.append(f"{path.name}: key order differs")
        return
    for f, kv in zip(fields, spec["kv"]):
        expected_type = SCALARS[kv["type"]][0] if kv["type"] != "array" else GGUFValueType.ARRAY
        if f.types[0] != expected_type:
            errors.append(f"{kv['key']}: type {f.types[0]} != {expected_type}")
        if kv["type"] == "array" and f.types[1] != SCALARS[kv["element_type"]][0]:
            errors.append(f"{kv['key']}: element type {f.types[1]}")
        expected = kv["values"] if kv["type"] == "array" else kv["value"]
        if field_value(f) != expected:
            errors.append(f"{kv['key']}: value {field_value(f)!r} != {expected!r}")
    blob = Path(spec["data_file"]).read_bytes()
    if len(reader.tensors) != len(spec["tensors"]):
        errors.append(f"{path.name}: {len(reader.tensors)} tensors, expected {len(spec['tensors'])}")
        return
    for t, expected in zip(reader.tensors, spec["tensors"]):
        data = np.ascontiguousarray(t.data).view(np.uint8).tobytes()
        want = blob[expected["data_offset"]:expected["data_offset"] + expected["data_size"]]
        if (t.name, int(t.tensor_type), [int(x) for x in t.shape]) != (expected["name"], expected["type"], expected["ne"]):
            errors.append(f"{expected['name']}: info differs ({t.name}, {t.tensor_type}, {list(t.shape)})")
        if data != want:
            errors.append(f"{expected['name']}: tensor bytes differ")


def main():
    tool = sys.argv[1]
    passed = failed = 0
    for seed in range(12):
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            spec = make_spec(seed, tmp)
            (tmp / "spec.json").write_text(json.dumps(spec))
            subprocess.run([tool, str(tmp / "spec.json"), str(tmp / "llcuda.gguf")], check=True)
            errors = []
            check_read_back(spec, tmp / "llcuda.gguf", errors)
            write_reference(spec, tmp / "reference.gguf")
            ours, theirs = (tmp / "llcuda.gguf").read_bytes(), (tmp / "reference.gguf").read_bytes()
            if ours != theirs:
                first = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), min(len(ours), len(theirs)))
                errors.append(f"bytes differ from gguf.GGUFWriter's at offset {first} (sizes {len(ours)}, {len(theirs)})")
            if errors:
                failed += 1
                print(f"seed {seed}: FAILED\n  " + "\n  ".join(errors[:20]))
            else:
                passed += 1
                print(f"seed {seed}: ok ({len(spec['kv'])} keys, {len(spec['tensors'])} tensors, {len(ours)} bytes)")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
