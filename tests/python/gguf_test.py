#!/usr/bin/env python3
"""llcuda.gguf.read against the gguf package's GGUFReader (llama.cpp's own Python reader) on the real
test models and the tiny golden models: every metadata key and value, the tensor table (names,
shapes, types, sizes) and every tensor's bytes and NumPy shape agree; arrays are views (no copy) that
outlive the file object; bad files give FormatError / NotFoundError naming the problem.
Usage: gguf_test.py REPO_ROOT LLCUDA ENGINE_REFERENCE INFER_TIMING"""
import gc
import tempfile
from pathlib import Path

import numpy as np
from gguf import GGUFReader
from py_support import GEMMA3, ROOT, SMOLLM2, Checks, require_models

import llcuda

check = Checks()
require_models(check, SMOLLM2, GEMMA3)
tiny = sorted((ROOT / "tests" / "golden" / "engine").glob("tiny-*.gguf"))
check(len(tiny) >= 3, f"tiny golden models: {tiny}")

for path in [SMOLLM2, GEMMA3] + tiny:
    ours, theirs = llcuda.gguf.read(path), GGUFReader(str(path))
    name = Path(path).name
    # Metadata: GGUFReader also lists the header as GGUF.* pseudo-keys.
    fields = {k: f for k, f in theirs.fields.items() if not k.startswith("GGUF.")}
    meta = ours.metadata
    check(list(meta) == list(fields), f"{name}: keys {list(meta)[:5]}... != {list(fields)[:5]}...")
    bad = [k for k in fields if k in meta and meta[k] != fields[k].contents()]
    check(not bad, f"{name}: values differ for {bad[:5]}")
    check(ours.version == theirs.fields["GGUF.version"].contents() and ours.data_offset == theirs.data_offset,
          f"{name}: version {ours.version}, data offset {ours.data_offset} vs {theirs.data_offset}")
    # Tensors: table and data.
    check([t.name for t in ours.tensors] == [t.name for t in theirs.tensors], f"{name}: tensor names")
    mismatches = []
    for t, r in zip(ours.tensors, theirs.tensors):
        a = ours.tensor(t.name)
        same = (t.type.lower() == r.tensor_type.name.lower() and list(t.ne) == [int(x) for x in r.shape]
                and t.n_bytes == r.n_bytes and t.n_elements == r.n_elements and list(t.shape) == list(t.ne)[::-1]
                and a.shape == r.data.shape and a.dtype == r.data.dtype and np.array_equal(a, r.data)
                and not a.flags.writeable)
        if not same:
            mismatches.append(f"{t.name} {t.type} {a.shape} {a.dtype} vs {r.tensor_type.name} {r.data.shape} {r.data.dtype}")
    check(not mismatches, f"{name}: tensors differ: {mismatches[:3]}")
    print(f"{name}: {len(meta)} keys, {len(ours.tensors)} tensors equal to GGUFReader's")

# Views, not copies: two reads share memory; an array keeps the mapping alive after the file object goes.
f = llcuda.gguf.read(SMOLLM2)
first = f.tensors[0].name
a, b = f.tensor(first), f.tensor(first)
check(np.shares_memory(a, b), "two tensor() calls return views of the same bytes")
want = np.array(a[:2], copy=True)
del f, b
gc.collect()
check(np.array_equal(a[:2], want), "array still readable after the GgufFile is gone")
types = llcuda.gguf.read(SMOLLM2).metadata_types
check(types["general.architecture"] == "string" and types["tokenizer.ggml.tokens"] == "array[string]",
      f"metadata_types: {dict(list(types.items())[:4])}")

# Bad input.
with tempfile.TemporaryDirectory() as d:
    junk = Path(d) / "junk.gguf"
    junk.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 8)
    try:
        llcuda.gguf.read(junk)
        check(False, "truncated GGUF: no error")
    except llcuda.FormatError as e:
        check(str(junk) in str(e) or "junk.gguf" in str(e), f"truncated GGUF: {e}")
for call, kind, needle in ((lambda: llcuda.gguf.read("/nonexistent.gguf"), llcuda.NotFoundError, "/nonexistent.gguf"),
                           (lambda: llcuda.gguf.read(SMOLLM2).tensor("no.such.tensor"), llcuda.NotFoundError, "no.such.tensor")):
    try:
        call()
        check(False, f"{needle}: no error")
    except kind as e:
        check(needle in str(e), f"{needle}: {e}")
check.finish()
