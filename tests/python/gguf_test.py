"""llcuda.gguf.read against the gguf package's GGUFReader (llama.cpp's own Python reader) on the real
test models and the tiny golden models: every metadata key and value, the tensor table (names,
shapes, types, sizes) and every tensor's bytes and NumPy shape agree; arrays are views (no copy) that
outlive the file object; bad files give FormatError / NotFoundError naming the problem.
Run by pytest (conftest.py)."""
import gc
from pathlib import Path

import numpy as np
import pytest
from conftest import GEMMA3, ROOT, SMOLLM2, require_model
from gguf import GGUFReader

import llcuda

TINY = sorted((ROOT / "tests" / "golden" / "engine").glob("tiny-*.gguf"))


def test_tiny_golden_models_present():
    assert len(TINY) >= 3, f"tiny golden models: {TINY}"


@pytest.fixture(scope="module", params=[SMOLLM2, GEMMA3] + TINY, ids=lambda p: Path(p).name)
def both(request):
    """(ours, theirs, name): the file read by llcuda.gguf and by GGUFReader."""
    path = require_model(request.param)
    return llcuda.gguf.read(path), GGUFReader(str(path)), path.name


def test_metadata_equals_ggufreader(both):
    ours, theirs, name = both
    # GGUFReader also lists the header as GGUF.* pseudo-keys.
    fields = {k: f for k, f in theirs.fields.items() if not k.startswith("GGUF.")}
    meta = ours.metadata
    assert list(meta) == list(fields), f"{name}: keys {list(meta)[:5]}... != {list(fields)[:5]}..."
    bad = [k for k in fields if k in meta and meta[k] != fields[k].contents()]
    assert not bad, f"{name}: values differ for {bad[:5]}"
    assert ours.version == theirs.fields["GGUF.version"].contents() and ours.data_offset == theirs.data_offset, \
        f"{name}: version {ours.version}, data offset {ours.data_offset} vs {theirs.data_offset}"


def test_tensors_equal_ggufreader(both):
    ours, theirs, name = both
    assert [t.name for t in ours.tensors] == [t.name for t in theirs.tensors], f"{name}: tensor names"
    mismatches = []
    for t, r in zip(ours.tensors, theirs.tensors):
        a = ours.tensor(t.name)
        same = (t.type.lower() == r.tensor_type.name.lower() and list(t.ne) == [int(x) for x in r.shape]
                and t.n_bytes == r.n_bytes and t.n_elements == r.n_elements and list(t.shape) == list(t.ne)[::-1]
                and a.shape == r.data.shape and a.dtype == r.data.dtype and np.array_equal(a, r.data)
                and not a.flags.writeable)
        if not same:
            mismatches.append(f"{t.name} {t.type} {a.shape} {a.dtype} vs {r.tensor_type.name} {r.data.shape} {r.data.dtype}")
    assert not mismatches, f"{name}: tensors differ: {mismatches[:3]}"
    print(f"{name}: {len(ours.metadata)} keys, {len(ours.tensors)} tensors equal to GGUFReader's")


def test_arrays_are_views_that_outlive_the_file(smollm2):
    """Two reads share memory; an array keeps the mapping alive after the file object goes."""
    f = llcuda.gguf.read(smollm2)
    first = f.tensors[0].name
    a, b = f.tensor(first), f.tensor(first)
    assert np.shares_memory(a, b), "two tensor() calls return views of the same bytes"
    want = np.array(a[:2], copy=True)
    del f, b
    gc.collect()
    assert np.array_equal(a[:2], want), "array still readable after the GgufFile is gone"


def test_metadata_types(smollm2):
    types = llcuda.gguf.read(smollm2).metadata_types
    assert types["general.architecture"] == "string" and types["tokenizer.ggml.tokens"] == "array[string]", \
        f"metadata_types: {dict(list(types.items())[:4])}"


def test_truncated_gguf(tmp_path):
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 8)
    with pytest.raises(llcuda.FormatError) as info:
        llcuda.gguf.read(junk)
    assert str(junk) in str(info.value) or "junk.gguf" in str(info.value), f"truncated GGUF: {info.value}"


@pytest.mark.parametrize("what", ["file", "tensor"])
def test_not_found(smollm2, what):
    call, needle = {"file": (lambda: llcuda.gguf.read("/nonexistent.gguf"), "/nonexistent.gguf"),
                    "tensor": (lambda: llcuda.gguf.read(smollm2).tensor("no.such.tensor"), "no.such.tensor")}[what]
    with pytest.raises(llcuda.NotFoundError) as info:
        call()
    assert needle in str(info.value), f"{needle}: {info.value}"
