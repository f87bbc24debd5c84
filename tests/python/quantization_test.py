#!/usr/bin/env python3
"""llcuda.quantization against things we did not write:
  - quantize_nf4 / quantize_fp4 / dequantize_4bit against bitsandbytes' own quantize_4bit and
    dequantize_4bit (tests/golden/quant/bnb4_*.lqg, made by tests/oracles/quant_bnb_golden.py; the same
    files and tolerances as tests/quant/test_bnb4.cpp), on NumPy arrays and through DLPack;
  - quantize / convert_to_gguf / merge_lora: byte-identical files to the `llcuda` program's
    (`quantize`, `convert`, `export`) on the tiny Hugging Face checkpoints of tests/golden/convert;
  - recommend / DynamicQuantizer: the same plan as `llcuda recommend --json` on the test models and
    for parameter counts;
  - bad input: the LlcudaError subclass naming the problem.
Usage: quantization_test.py REPO_ROOT LLCUDA ENGINE_REFERENCE INFER_TIMING"""
import json
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from py_support import GEMMA3, LLCUDA, ROOT, SMOLLM2, Checks, require_models

import llcuda
from llcuda import quantization as Q

check = Checks()
require_models(check, SMOLLM2, GEMMA3)
CONVERT = ROOT / "tests" / "golden" / "convert"


def read_lqg(path):
    """tests/golden/quant/*.lqg (format in tests/oracles/quant_golden_io.py): name -> (meta, bytes, floats)."""
    data = Path(path).read_bytes()
    assert data[:4] == b"LQG1"
    (n,), pos = struct.unpack_from("<I", data, 4), 8
    out = {}
    for _ in range(n):
        (ln,) = struct.unpack_from("<I", data, pos); pos += 4
        name = data[pos:pos + ln].decode(); pos += ln
        (nm,) = struct.unpack_from("<I", data, pos); pos += 4
        meta = list(struct.unpack_from(f"<{nm}Q", data, pos)); pos += 8 * nm
        (nb,) = struct.unpack_from("<Q", data, pos); pos += 8
        raw = np.frombuffer(data, np.uint8, nb, pos); pos += nb
        (nf,) = struct.unpack_from("<Q", data, pos); pos += 8
        floats = np.frombuffer(data, np.float32, nf, pos); pos += 4 * nf
        out[name] = (meta, raw, floats)
    return out


def bits(a):
    return np.asarray(a, np.float32).view(np.uint32)


# 1. bitsandbytes 4-bit, both directions.
for fname in ("bnb4_nf4.lqg", "bnb4_fp4.lqg"):
    records = read_lqg(ROOT / "tests" / "golden" / "quant" / fname)
    tags = sorted({k.split("/")[0] for k in records})
    check(len(tags) == 5, f"{fname}: 5 cases, got {tags}")
    for tag in tags:
        part = lambda k: records[f"{tag}/{k}"]  # noqa: E731
        meta = part("input")[0]
        qt, bs, n, dq = ("nf4" if meta[0] == 0 else "fp4"), int(meta[1]), int(meta[2]), bool(meta[3])
        x = part("input")[2]
        want_deq = part("dequant")[2]
        # Their encoding decoded by us: bit-exact (zeros by value: bitsandbytes' CPU kernels disagree on -0).
        if dq:
            state = Q.QuantState(absmax=part("absmax_codes")[1], shape=(n,), code=None, blocksize=bs, quant_type=qt,
                                 dtype=np.float32, offset=float(part("offset")[2][0]),
                                 state2=Q.QuantState(absmax=part("nested_absmax")[2], shape=None, code=part("nested_map")[2],
                                                     blocksize=256, quant_type="dynamic", dtype=np.float32))
        else:
            state = Q.QuantState(absmax=part("absmax")[2], shape=(n,), code=None, blocksize=bs, quant_type=qt,
                                 dtype=np.float32)
        got = Q.dequantize_4bit(part("packed")[1], state)
        nz = want_deq != 0
        check(got.shape == (n,) and got.dtype == np.float32 and np.array_equal(bits(got[nz]), bits(want_deq[nz]))
              and np.all(got[~nz] == 0), f"{tag}: dequantize of bitsandbytes' data differs")
        # Our encoding vs theirs.
        packed, st = Q.quantize_4bit(x, blocksize=bs, double_quant=dq, quant_type=qt)
        check(packed.shape == ((n + 1) // 2, 1) and packed.dtype == np.uint8
              and np.array_equal(packed.ravel(), part("packed")[1]), f"{tag}: packed bytes differ from bitsandbytes'")
        if not dq:
            check(np.array_equal(bits(st.absmax), bits(part("absmax")[2])), f"{tag}: absmax differs")
        else:
            # torch sums the absmax mean in its own order: the offset may differ in the last bits, and
            # then a code whose value lies within a LUT step of a midpoint may round the other way.
            off_ulps = abs(int(bits([st.offset])[0]) - int(bits(part("offset")[2])[0]))
            codes = st.absmax.astype(int) - part("absmax_codes")[1].astype(int)
            check(np.array_equal(bits(st.state2.code), bits(part("nested_map")[2])) and off_ulps <= 2
                  and np.abs(codes).max() <= 1 and np.count_nonzero(codes) <= codes.size // 100 + 1,
                  f"{tag}: double quantization: offset {off_ulps} ulp, {np.count_nonzero(codes)} codes differ")
        back = Q.dequantize_4bit(packed, st)
        check(np.abs(back - want_deq).max() <= np.abs(x).max() * 0.01 + 1e-6 if dq else
              np.array_equal(bits(back[nz]), bits(want_deq[nz])), f"{tag}: round trip differs from bitsandbytes'")
    print(f"{fname}: {len(tags)} cases equal to bitsandbytes'")

# Shapes, dtypes and input kinds: a 2-D float16 input comes back 2-D float16; a strided view and a
# DLPack producer give the same bytes as the contiguous float32 array.
rng = np.random.default_rng(7)
w = rng.standard_normal((48, 40)).astype(np.float32)
packed, st = Q.quantize_nf4(w)
check(st.quant_type == "nf4" and st.nested and st.shape == (48, 40) and len(st.code) == 16, f"state {st}")
p16, st16 = Q.quantize_nf4(w.astype(np.float16))
back16 = Q.dequantize_nf4(p16, st16)
check(back16.shape == (48, 40) and back16.dtype == np.float16, f"float16 round trip: {back16.shape} {back16.dtype}")
check(np.array_equal(p16, Q.quantize_nf4(w.astype(np.float16).astype(np.float32))[0]), "float16 input = its float32 value")
wide = np.zeros((48, 80), np.float32)
wide[:, ::2] = w
check(np.array_equal(Q.quantize_nf4(wide[:, ::2])[0], packed), "strided view = contiguous copy")


class DLPackOnly:
    """A producer that only speaks DLPack (as a torch or JAX tensor would)."""
    def __init__(self, a):
        self.a = a

    def __dlpack__(self, **kw):
        return self.a.__dlpack__(**kw)

    def __dlpack_device__(self):
        return self.a.__dlpack_device__()


check(np.array_equal(Q.quantize_nf4(DLPackOnly(w))[0], packed), "DLPack producer = the array")
err = np.abs(Q.dequantize_nf4(packed, st) - w).max()
check(0 < err < np.abs(w).max() * 0.2, f"NF4 round-trip error {err}")


def raises(call, cls, needle):
    try:
        call()
    except cls as e:
        check(needle in str(e), f"{cls.__name__} message {e!r} lacks {needle!r}")
        return
    except Exception as e:  # noqa: BLE001
        check(False, f"{needle}: expected {cls.__name__}, got {type(e).__name__}: {e}")
        return
    check(False, f"{needle}: no error")


raises(lambda: Q.quantize_nf4(np.arange(100, dtype=np.int32)), llcuda.InvalidArgumentError, "int32")
raises(lambda: Q.quantize_nf4(w, blocksize=48), llcuda.InvalidArgumentError, "48")
raises(lambda: Q.quantize_nf4(np.zeros(0, np.float32)), llcuda.InvalidArgumentError, "empty")
raises(lambda: Q.quantize_4bit(w, quant_type="int4"), llcuda.InvalidArgumentError, "int4")
raises(lambda: Q.quantize_nf4("weights"), llcuda.InvalidArgumentError, "str")
raises(lambda: Q.dequantize_nf4(packed[:-1], st), llcuda.InvalidArgumentError, "bnb4")
raises(lambda: Q.dequantize_nf4(packed, Q.quantize_fp4(w)[1]), llcuda.InvalidArgumentError, "fp4")
plain_packed, plain = Q.quantize_nf4(w, double_quant=False)
plain.absmax = plain.absmax.astype(np.float64)
raises(lambda: Q.dequantize_nf4(plain_packed, plain), llcuda.InvalidArgumentError, "float32")


# 2. Files: the same bytes as the llcuda program.
def cli(*args):
    out = subprocess.run([LLCUDA] + [str(a) for a in args], capture_output=True, text=True, timeout=600)
    check(out.returncode == 0, f"llcuda {' '.join(map(str, args))}: exit {out.returncode} {out.stderr[-300:]}")
    return out.stdout


with tempfile.TemporaryDirectory() as d:
    d = Path(d)
    lines = []
    rep = Q.convert_to_gguf(CONVERT / "llama", d / "py-f32.gguf", "F32", progress=lines.append)
    cli("convert", CONVERT / "llama", d / "cli-f32.gguf", "--type", "F32", "--quiet")
    check((d / "py-f32.gguf").read_bytes() == (d / "cli-f32.gguf").read_bytes(), "convert_to_gguf F32 = llcuda convert")
    check(rep["architecture"] == "llama" and len(rep["tensors"]) == len(llcuda.gguf.read(d / "py-f32.gguf").tensors)
          and len(lines) == len(rep["tensors"]), f"convert report: {rep['architecture']}, {len(lines)} progress lines")
    Q.convert_to_gguf(CONVERT / "qwen3", d / "py-q8.gguf", quant_type="Q8_0", progress=False)
    cli("convert", CONVERT / "qwen3", d / "cli-q8.gguf", "--type", "Q8_0", "--quiet")
    check((d / "py-q8.gguf").read_bytes() == (d / "cli-q8.gguf").read_bytes(), "convert_to_gguf Q8_0 = llcuda convert")

    for preset in ("Q4_K_M", "Q5_0"):
        lines = []
        rep = Q.quantize(d / "py-f32.gguf", d / f"py-{preset}.gguf", preset, progress=lines.append)
        cli("quantize", d / "cli-f32.gguf", d / f"cli-{preset}.gguf", preset)
        check((d / f"py-{preset}.gguf").read_bytes() == (d / f"cli-{preset}.gguf").read_bytes(),
              f"quantize {preset} = llcuda quantize")
        types = {t.name: t.type for t in llcuda.gguf.read(d / f"py-{preset}.gguf").tensors}
        converted = [t for t in rep["tensors"] if t["from"] != t["to"]]   # copied tensors are not reported
        check(len(lines) == len(converted) > 0 and all(types[t["name"]] == t["to"] for t in rep["tensors"])
              and rep["bytes_out"] < rep["bytes_in"], f"quantize {preset} report")

    Q.merge_lora(CONVERT / "llama", CONVERT / "lora_llama", d / "py-lora.gguf", "F16", progress=False)
    cli("export", "--base", CONVERT / "llama", "--lora", CONVERT / "lora_llama", d / "cli-lora.gguf", "--type", "F16", "-q")
    check((d / "py-lora.gguf").read_bytes() == (d / "cli-lora.gguf").read_bytes(), "merge_lora = llcuda export")

    # Bad input: clear errors, nothing left behind.
    raises(lambda: Q.quantize(d / "missing.gguf", d / "x.gguf"), llcuda.ModelNotFoundError, "missing.gguf")
    raises(lambda: Q.quantize(d / "py-f32.gguf", d / "x.gguf", "Q9_K"), llcuda.InvalidArgumentError, "Q9_K")
    raises(lambda: Q.convert_to_gguf(d / "nodir", d / "x.gguf"), llcuda.ModelNotFoundError, "nodir")
    raises(lambda: Q.convert_to_gguf(CONVERT / "llama", d / "x.gguf", "Q3_X"), llcuda.InvalidArgumentError, "Q3_X")
    raises(lambda: Q.merge_lora(CONVERT / "llama", d, d / "x.gguf"), llcuda.NotFoundError, "adapter_config.json")
    check(not (d / "x.gguf").exists(), "failed jobs leave no output")

    def stop(_):
        raise KeyboardInterrupt

    try:
        Q.quantize(d / "py-f32.gguf", d / "x.gguf", "Q8_0", progress=stop)
        check(False, "exception in the progress callback: not propagated")
    except KeyboardInterrupt:
        check(not (d / "x.gguf").exists(), "interrupted quantize leaves no output")

# 3. The planner: the same plan as `llcuda recommend --json`.
for model in (SMOLLM2, GEMMA3):
    for vram, ctx, strategy in ((0.25, 4096, "balanced"), (2, 8192, "quality"), (0.6, 2048, "aggressive")):
        want = json.loads(cli("recommend", model, "--vram", vram, "--ctx", ctx, "--strategy", strategy, "--json"))
        got = Q.plan_to_dict(Q.recommend(model, vram, context=ctx, strategy=strategy))
        check(got == want, f"recommend {Path(model).name} {vram} GiB {strategy}: {got.get('recommended')} vs {want.get('recommended')}")
for params, vram in (("8B", 16), ("135M", 1), ("70B", 24)):
    want = json.loads(cli("recommend", "--params", params, "--vram", vram, "--json"))
    check(Q.plan_to_dict(Q.recommend(params, vram)) == want, f"recommend --params {params} --vram {vram}")
cfg = Q.DynamicQuantizer(target_vram_gb=16).recommend_config(model_size_gb=16)
plan = Q.recommend(8_000_000_000, 16)
check(cfg["quant_type"] == plan.recommended_type and cfg["ctx_size"] == plan.recommended_context
      and cfg["n_gpu_layers"] == -1 and abs(cfg["expected_vram_gb"] - plan.recommended_total_bytes / 2**30) < 1e-9,
      f"DynamicQuantizer(16).recommend_config(model_size_gb=16) = {cfg['quant_type']} vs 8B plan {plan.recommended_type}")
none_fit = Q.DynamicQuantizer(target_vram_gb=1).recommend_config(n_params="70B")
check(none_fit["quant_type"] is None and none_fit["n_gpu_layers"] == 0, f"70B in 1 GiB: {none_fit['quant_type']}")
raises(lambda: Q.recommend(SMOLLM2, 0), llcuda.InvalidArgumentError, "vram_gb")
raises(lambda: Q.recommend(SMOLLM2, 4, strategy="fastest"), llcuda.InvalidArgumentError, "fastest")
raises(lambda: Q.recommend(ROOT / "no-such-model.gguf", 4), llcuda.ModelNotFoundError, "no-such-model.gguf")
raises(lambda: Q.parse_param_count("8Q"), llcuda.InvalidArgumentError, "8Q")
raises(lambda: Q.DynamicQuantizer(8).recommend_config(), llcuda.InvalidArgumentError, "exactly one")

# 4. Docstrings on every public name of both modules (package_test checks the top-level names only).
import inspect  # noqa: E402
undocumented = []
for mod in (Q, llcuda.unsloth):
    check(bool((mod.__doc__ or "").strip()), f"{mod.__name__} has no docstring")
    for name in mod.__all__:
        obj = getattr(mod, name)
        if not (obj.__doc__ or "").strip():
            undocumented.append(name)
        if inspect.isclass(obj):
            undocumented += [f"{name}.{a}" for a, v in vars(obj).items()
                             if not a.startswith("_") and callable(v) and not (v.__doc__ or "").strip()]
check(not undocumented, f"undocumented: {undocumented}")
check.finish()
