"""llcuda.quantization against things we did not write:
  - quantize_nf4 / quantize_fp4 / dequantize_4bit against bitsandbytes' own quantize_4bit and
    dequantize_4bit (tests/golden/quant/bnb4_*.lqg, made by tests/oracles/quant_bnb_golden.py; the same
    files and tolerances as tests/quant/test_bnb4.cpp), on NumPy arrays and through DLPack;
  - quantize / convert_to_gguf / merge_lora: byte-identical files to the `llcuda` program's
    (`quantize`, `convert`, `export`) on the tiny Hugging Face checkpoints of tests/golden/convert;
  - recommend / DynamicQuantizer: the same plan as `llcuda recommend --json` on the test models and
    for parameter counts;
  - bad input: the LlcudaError subclass naming the problem.
Run by pytest (conftest.py)."""
import inspect
import json
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import GEMMA3, ROOT, SMOLLM2, require_model

import llcuda
from llcuda import quantization as Q

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


def raises(call, cls, needle):
    """call() raises `cls` whose message contains `needle` (any other exception fails the test)."""
    with pytest.raises(cls) as info:
        call()
    assert needle in str(info.value), f"{cls.__name__} message {info.value!r} lacks {needle!r}"


# 1. bitsandbytes 4-bit, both directions.
def bnb_cases():
    for fname in ("bnb4_nf4.lqg", "bnb4_fp4.lqg"):
        records = read_lqg(ROOT / "tests" / "golden" / "quant" / fname)
        for tag in sorted({k.split("/")[0] for k in records}):
            yield pytest.param(records, tag, id=f"{fname}:{tag}")


@pytest.mark.parametrize("fname", ["bnb4_nf4.lqg", "bnb4_fp4.lqg"])
def test_bnb_golden_has_five_cases(fname):
    tags = sorted({k.split("/")[0] for k in read_lqg(ROOT / "tests" / "golden" / "quant" / fname)})
    assert len(tags) == 5, f"{fname}: 5 cases, got {tags}"


@pytest.mark.parametrize("records, tag", list(bnb_cases()))
def test_bnb4_equals_bitsandbytes(records, tag):
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
    assert (got.shape == (n,) and got.dtype == np.float32 and np.array_equal(bits(got[nz]), bits(want_deq[nz]))
            and np.all(got[~nz] == 0)), f"{tag}: dequantize of bitsandbytes' data differs"
    # Our encoding vs theirs.
    packed, st = Q.quantize_4bit(x, blocksize=bs, double_quant=dq, quant_type=qt)
    assert (packed.shape == ((n + 1) // 2, 1) and packed.dtype == np.uint8
            and np.array_equal(packed.ravel(), part("packed")[1])), f"{tag}: packed bytes differ from bitsandbytes'"
    if not dq:
        assert np.array_equal(bits(st.absmax), bits(part("absmax")[2])), f"{tag}: absmax differs"
    else:
        # torch sums the absmax mean in its own order: the offset may differ in the last bits, and
        # then a code whose value lies within a LUT step of a midpoint may round the other way.
        off_ulps = abs(int(bits([st.offset])[0]) - int(bits(part("offset")[2])[0]))
        codes = st.absmax.astype(int) - part("absmax_codes")[1].astype(int)
        assert (np.array_equal(bits(st.state2.code), bits(part("nested_map")[2])) and off_ulps <= 2
                and np.abs(codes).max() <= 1 and np.count_nonzero(codes) <= codes.size // 100 + 1), \
            f"{tag}: double quantization: offset {off_ulps} ulp, {np.count_nonzero(codes)} codes differ"
    back = Q.dequantize_4bit(packed, st)
    assert (np.abs(back - want_deq).max() <= np.abs(x).max() * 0.01 + 1e-6 if dq else
            np.array_equal(bits(back[nz]), bits(want_deq[nz]))), f"{tag}: round trip differs from bitsandbytes'"


# Shapes, dtypes and input kinds: a 2-D float16 input comes back 2-D float16; a strided view and a
# DLPack producer give the same bytes as the contiguous float32 array.
W = np.random.default_rng(7).standard_normal((48, 40)).astype(np.float32)


@pytest.fixture(scope="module")
def nf4():
    """(packed, state) of W in NF4."""
    return Q.quantize_nf4(W)


def test_nf4_state(nf4):
    st = nf4[1]
    assert st.quant_type == "nf4" and st.nested and st.shape == (48, 40) and len(st.code) == 16, f"state {st}"


def test_float16_input():
    p16, st16 = Q.quantize_nf4(W.astype(np.float16))
    back16 = Q.dequantize_nf4(p16, st16)
    assert back16.shape == (48, 40) and back16.dtype == np.float16, f"float16 round trip: {back16.shape} {back16.dtype}"
    assert np.array_equal(p16, Q.quantize_nf4(W.astype(np.float16).astype(np.float32))[0]), \
        "float16 input = its float32 value"


def test_strided_view(nf4):
    wide = np.zeros((48, 80), np.float32)
    wide[:, ::2] = W
    assert np.array_equal(Q.quantize_nf4(wide[:, ::2])[0], nf4[0]), "strided view = contiguous copy"


class DLPackOnly:
    """A producer that only speaks DLPack (as a torch or JAX tensor would)."""
    def __init__(self, a):
        self.a = a

    def __dlpack__(self, **kw):
        return self.a.__dlpack__(**kw)

    def __dlpack_device__(self):
        return self.a.__dlpack_device__()


def test_dlpack_producer(nf4):
    assert np.array_equal(Q.quantize_nf4(DLPackOnly(W))[0], nf4[0]), "DLPack producer = the array"


def test_nf4_round_trip_error(nf4):
    err = np.abs(Q.dequantize_nf4(*nf4) - W).max()
    assert 0 < err < np.abs(W).max() * 0.2, f"NF4 round-trip error {err}"


def test_bnb4_bad_input(nf4):
    packed, st = nf4
    raises(lambda: Q.quantize_nf4(np.arange(100, dtype=np.int32)), llcuda.InvalidArgumentError, "int32")
    raises(lambda: Q.quantize_nf4(W, blocksize=48), llcuda.InvalidArgumentError, "48")
    raises(lambda: Q.quantize_nf4(np.zeros(0, np.float32)), llcuda.InvalidArgumentError, "empty")
    raises(lambda: Q.quantize_4bit(W, quant_type="int4"), llcuda.InvalidArgumentError, "int4")
    raises(lambda: Q.quantize_nf4("weights"), llcuda.InvalidArgumentError, "str")
    raises(lambda: Q.dequantize_nf4(packed[:-1], st), llcuda.InvalidArgumentError, "bnb4")
    raises(lambda: Q.dequantize_nf4(packed, Q.quantize_fp4(W)[1]), llcuda.InvalidArgumentError, "fp4")
    plain_packed, plain = Q.quantize_nf4(W, double_quant=False)
    plain.absmax = plain.absmax.astype(np.float64)
    raises(lambda: Q.dequantize_nf4(plain_packed, plain), llcuda.InvalidArgumentError, "float32")


# 2. Files: the same bytes as the llcuda program.
@pytest.fixture(scope="module")
def cli(llcuda_program):
    def run(*args):
        out = subprocess.run([llcuda_program] + [str(a) for a in args], capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, f"llcuda {' '.join(map(str, args))}: exit {out.returncode} {out.stderr[-300:]}"
        return out.stdout
    return run


@pytest.fixture(scope="module")
def f32(tmp_path_factory, cli):
    """A folder with the tiny llama checkpoint converted to F32 by both (py-f32.gguf, cli-f32.gguf)."""
    d = tmp_path_factory.mktemp("files")
    lines = []
    rep = Q.convert_to_gguf(CONVERT / "llama", d / "py-f32.gguf", "F32", progress=lines.append)
    cli("convert", CONVERT / "llama", d / "cli-f32.gguf", "--type", "F32", "--quiet")
    return d, rep, lines


def test_convert_f32_equals_cli(f32):
    d, rep, lines = f32
    assert (d / "py-f32.gguf").read_bytes() == (d / "cli-f32.gguf").read_bytes(), "convert_to_gguf F32 = llcuda convert"
    assert (rep["architecture"] == "llama" and len(rep["tensors"]) == len(llcuda.gguf.read(d / "py-f32.gguf").tensors)
            and len(lines) == len(rep["tensors"])), f"convert report: {rep['architecture']}, {len(lines)} progress lines"


def test_convert_q8_equals_cli(tmp_path, cli):
    d = tmp_path
    Q.convert_to_gguf(CONVERT / "qwen3", d / "py-q8.gguf", quant_type="Q8_0", progress=False)
    cli("convert", CONVERT / "qwen3", d / "cli-q8.gguf", "--type", "Q8_0", "--quiet")
    assert (d / "py-q8.gguf").read_bytes() == (d / "cli-q8.gguf").read_bytes(), "convert_to_gguf Q8_0 = llcuda convert"


@pytest.mark.parametrize("preset", ["Q4_K_M", "Q5_0"])
def test_quantize_equals_cli(f32, cli, preset):
    d = f32[0]
    lines = []
    rep = Q.quantize(d / "py-f32.gguf", d / f"py-{preset}.gguf", preset, progress=lines.append)
    cli("quantize", d / "cli-f32.gguf", d / f"cli-{preset}.gguf", preset)
    assert (d / f"py-{preset}.gguf").read_bytes() == (d / f"cli-{preset}.gguf").read_bytes(), \
        f"quantize {preset} = llcuda quantize"
    types = {t.name: t.type for t in llcuda.gguf.read(d / f"py-{preset}.gguf").tensors}
    converted = [t for t in rep["tensors"] if t["from"] != t["to"]]   # copied tensors are not reported
    assert (len(lines) == len(converted) > 0 and all(types[t["name"]] == t["to"] for t in rep["tensors"])
            and rep["bytes_out"] < rep["bytes_in"]), f"quantize {preset} report"


def test_merge_lora_equals_cli(tmp_path, cli):
    d = tmp_path
    Q.merge_lora(CONVERT / "llama", CONVERT / "lora_llama", d / "py-lora.gguf", "F16", progress=False)
    cli("export", "--base", CONVERT / "llama", "--lora", CONVERT / "lora_llama", d / "cli-lora.gguf", "--type", "F16", "-q")
    assert (d / "py-lora.gguf").read_bytes() == (d / "cli-lora.gguf").read_bytes(), "merge_lora = llcuda export"


def test_file_jobs_bad_input_leave_nothing(f32):
    """Clear errors, nothing left behind."""
    d = f32[0]
    raises(lambda: Q.quantize(d / "missing.gguf", d / "x.gguf"), llcuda.ModelNotFoundError, "missing.gguf")
    raises(lambda: Q.quantize(d / "py-f32.gguf", d / "x.gguf", "Q9_K"), llcuda.InvalidArgumentError, "Q9_K")
    raises(lambda: Q.convert_to_gguf(d / "nodir", d / "x.gguf"), llcuda.ModelNotFoundError, "nodir")
    raises(lambda: Q.convert_to_gguf(CONVERT / "llama", d / "x.gguf", "Q3_X"), llcuda.InvalidArgumentError, "Q3_X")
    raises(lambda: Q.merge_lora(CONVERT / "llama", d, d / "x.gguf"), llcuda.NotFoundError, "adapter_config.json")
    assert not (d / "x.gguf").exists(), "failed jobs leave no output"


def test_interrupted_quantize_leaves_nothing(f32):
    d = f32[0]

    def stop(_):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # the exception in the progress callback propagates
        Q.quantize(d / "py-f32.gguf", d / "y.gguf", "Q8_0", progress=stop)
    assert not (d / "y.gguf").exists(), "interrupted quantize leaves no output"


# 3. The planner: the same plan as `llcuda recommend --json`.
@pytest.mark.parametrize("model", [SMOLLM2, GEMMA3], ids=lambda p: Path(p).name)
@pytest.mark.parametrize("vram, ctx, strategy", [(0.25, 4096, "balanced"), (2, 8192, "quality"), (0.6, 2048, "aggressive")])
def test_recommend_model_equals_cli(cli, model, vram, ctx, strategy):
    model = require_model(model)
    want = json.loads(cli("recommend", model, "--vram", vram, "--ctx", ctx, "--strategy", strategy, "--json"))
    got = Q.plan_to_dict(Q.recommend(model, vram, context=ctx, strategy=strategy))
    assert got == want, f"recommend {Path(model).name} {vram} GiB {strategy}: {got.get('recommended')} vs {want.get('recommended')}"


@pytest.mark.parametrize("params, vram", [("8B", 16), ("135M", 1), ("70B", 24)])
def test_recommend_params_equals_cli(cli, params, vram):
    want = json.loads(cli("recommend", "--params", params, "--vram", vram, "--json"))
    assert Q.plan_to_dict(Q.recommend(params, vram)) == want, f"recommend --params {params} --vram {vram}"


def test_dynamic_quantizer():
    cfg = Q.DynamicQuantizer(target_vram_gb=16).recommend_config(model_size_gb=16)
    plan = Q.recommend(8_000_000_000, 16)
    assert (cfg["quant_type"] == plan.recommended_type and cfg["ctx_size"] == plan.recommended_context
            and cfg["n_gpu_layers"] == -1 and abs(cfg["expected_vram_gb"] - plan.recommended_total_bytes / 2**30) < 1e-9), \
        f"DynamicQuantizer(16).recommend_config(model_size_gb=16) = {cfg['quant_type']} vs 8B plan {plan.recommended_type}"
    none_fit = Q.DynamicQuantizer(target_vram_gb=1).recommend_config(n_params="70B")
    assert none_fit["quant_type"] is None and none_fit["n_gpu_layers"] == 0, f"70B in 1 GiB: {none_fit['quant_type']}"


def test_planner_bad_input(smollm2):
    raises(lambda: Q.recommend(smollm2, 0), llcuda.InvalidArgumentError, "vram_gb")
    raises(lambda: Q.recommend(smollm2, 4, strategy="fastest"), llcuda.InvalidArgumentError, "fastest")
    raises(lambda: Q.recommend(ROOT / "no-such-model.gguf", 4), llcuda.ModelNotFoundError, "no-such-model.gguf")
    raises(lambda: Q.parse_param_count("8Q"), llcuda.InvalidArgumentError, "8Q")
    raises(lambda: Q.DynamicQuantizer(8).recommend_config(), llcuda.InvalidArgumentError, "exactly one")


# 4. Docstrings on every public name of both modules (package_test checks the top-level names only).
def test_docstrings():
    undocumented = []
    for mod in (Q, llcuda.unsloth):
        if not (mod.__doc__ or "").strip():
            undocumented.append(mod.__name__)
        for name in mod.__all__:
            obj = getattr(mod, name)
            if not (obj.__doc__ or "").strip():
                undocumented.append(name)
            if inspect.isclass(obj):
                undocumented += [f"{name}.{a}" for a, v in vars(obj).items()
                                 if not a.startswith("_") and callable(v) and not (v.__doc__ or "").strip()]
    assert not undocumented, f"undocumented: {undocumented}"
