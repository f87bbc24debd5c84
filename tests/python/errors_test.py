"""Bad input through the Python package: each case gives a clear exception (an LlcudaError subclass
that is also the builtin a Python programmer catches) naming the problem, or from infer() an
InferResult with success=False and that message; the engine stays usable afterwards. Model names
resolve through the model cache ($LLCUDA_MODEL_CACHE) without touching the network.
Run by pytest (conftest.py)."""
import pytest

import llcuda
from llcuda import errors


def raises(kind, needle, call, what):
    """call() raises `kind` whose message contains `needle` (any other exception fails the test)."""
    with pytest.raises(kind) as info:
        call()
    assert needle in str(info.value), f"{what}: {type(info.value).__name__} without {needle!r}: {info.value}"


def failed(result, needle, what):
    assert (isinstance(result, llcuda.InferResult) and not result.success and needle in result.error_message
            and result.text == ""), f"{what}: {result!r}"


@pytest.fixture(scope="module")
def engine(smollm2):
    """One engine for the file, with no model until test_model_names_in_the_cache loads one."""
    e = llcuda.InferenceEngine()
    yield e
    e.unload_model()


@pytest.fixture
def loaded(engine, smollm2):
    if not engine.is_loaded:
        engine.load_model(smollm2)
    return engine


def test_before_load_model(engine):
    """No model yet: infer reports it, the others raise."""
    failed(engine.infer("Hi"), "no model is loaded", "infer before load_model")
    raises(llcuda.InvalidArgumentError, "no model is loaded", lambda: engine.infer_stream("Hi", print),
           "infer_stream before load")
    raises(ValueError, "no model is loaded", lambda: engine.batch_infer(["Hi"]), "batch_infer before load (a ValueError too)")
    assert engine.is_loaded is False, "is_loaded before load_model"


def test_missing_files_and_bad_load_arguments(engine, smollm2):
    """Missing files and names: ModelNotFoundError, which is a FileNotFoundError."""
    raises(FileNotFoundError, "/nonexistent/model.gguf", lambda: engine.load_model("/nonexistent/model.gguf"), "missing file")
    raises(llcuda.ModelNotFoundError, "gemma-3-1b-it-Q4_K_M.gguf",
           lambda: engine.load_model("gemma-3-1b-Q4_K_M", offline=True), "well-known name not in the cache (offline)")
    raises(llcuda.InvalidArgumentError, "model_name_or_path", lambda: engine.load_model(42), "model path of the wrong type")
    raises(TypeError, "bogus_option", lambda: engine.load_model(smollm2, bogus_option=1), "unknown load option")
    raises(llcuda.InvalidArgumentError, "backend", lambda: engine.load_model(smollm2, backend="tpu"), "unknown backend")
    raises(llcuda.InvalidArgumentError, "ctx_size", lambda: engine.load_model(smollm2, ctx_size=-5), "negative ctx_size")
    raises(llcuda.InvalidArgumentError, "f16_weight_copies",
           lambda: engine.load_model(smollm2, backend="cpu", f16_weight_copies=True), "GPU weight copies on the CPU")


def test_not_a_gguf(engine, tmp_path):
    """Not a GGUF: FormatError (a ValueError) naming the file's problem."""
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"definitely not a gguf file" * 10)
    raises(llcuda.FormatError, "magic", lambda: engine.load_model(junk), "junk file")
    raises(llcuda.LlcudaIOError, "not a regular file", lambda: engine.load_model(tmp_path), "a directory")


def test_model_names_in_the_cache(engine, smollm2, tmp_path, monkeypatch):
    """"repo:file" and well-known names are found in $LLCUDA_MODEL_CACHE, as <owner>/<repo>/<file>."""
    d = tmp_path
    monkeypatch.setenv("LLCUDA_MODEL_CACHE", str(d))
    assert llcuda.model_cache_dir() == d, f"model_cache_dir {llcuda.model_cache_dir()} != {d}"
    placed = d / "someone" / "tiny-GGUF" / "model-Q4_1.gguf"
    placed.parent.mkdir(parents=True)
    placed.symlink_to(smollm2)
    assert llcuda.resolve_model("someone/tiny-GGUF:model-Q4_1.gguf") == placed, "repo:file in the cache"
    (d / "SmolLM2-135M-Instruct.Q4_1.gguf").symlink_to(smollm2)
    assert llcuda.resolve_model("smollm2-135m-Q4_1") == d / "SmolLM2-135M-Instruct.Q4_1.gguf", \
        "well-known name stored flat by fetch-models.sh"
    raises(llcuda.ModelNotFoundError, str(d / "someone" / "other-GGUF" / "x.gguf"),
           lambda: llcuda.resolve_model("someone/other-GGUF:x.gguf", offline=True),
           "repo:file not in the cache names the path (offline: no download)")
    assert engine.load_model("someone/tiny-GGUF:model-Q4_1.gguf") and engine.is_loaded, "load_model('repo:file')"


@pytest.mark.parametrize("kwargs, needle", [
    (dict(prompt="Hi", max_tokens=-1), "max_tokens must be >= 0"),
    (dict(prompt="Hi", max_tokens="many"), "max_tokens must be an int"),
    (dict(prompt=123), "prompt must be a str"),
    (dict(prompt="Hi", top_p=1.5), "top_p"),  # the engine's validate
    (dict(prompt="Hi", temperature="hot"), "temperature"),
    (dict(prompt="Hi", no_such_sampler=1), "no_such_sampler"),
    (dict(prompt=""), "empty"),
    (dict(prompt="word " * 5000, max_tokens=1), "context"),  # longer than the context
], ids=["negative max_tokens", "max_tokens type", "prompt type", "top_p range", "temperature type",
        "unknown sampling argument", "empty prompt", "prompt over context"])
def test_infer_reports_bad_arguments(loaded, kwargs, needle):
    kwargs = dict(kwargs)
    failed(loaded.infer(kwargs.pop("prompt"), **kwargs), needle, f"infer {needle}")


def test_other_calls_raise_on_bad_arguments(loaded):
    engine = loaded
    raises(llcuda.InvalidArgumentError, "max_tokens", lambda: engine.batch_infer(["a", "b"], max_tokens=-3), "batch max_tokens")
    raises(llcuda.InvalidArgumentError, "prompts must be a list of str", lambda: engine.batch_infer("a prompt"), "batch of a str")
    raises(llcuda.InvalidArgumentError, "callable", lambda: engine.infer_stream("Hi", None), "callback None")
    raises(llcuda.InvalidArgumentError, "messages", lambda: engine.create_chat_completion("Hi"), "messages as a str")
    raises(llcuda.InvalidArgumentError, "role", lambda: engine.create_chat_completion([{"content": "Hi"}]), "no role")
    raises(llcuda.InvalidArgumentError, "response_format",
           lambda: engine.create_chat_completion([{"role": "user", "content": "Hi"}], response_format={"type": "yaml"}),
           "unknown response_format")
    raises(llcuda.InvalidArgumentError, "tool_choice names 'nope'",
           lambda: engine.create_chat_completion([{"role": "user", "content": "Hi"}],
                                                 tool_choice={"function": {"name": "nope"}},
                                                 tools=[{"type": "function", "function": {"name": "f"}}]), "unknown tool")


class Boom(Exception):
    pass


def test_callback_exception_propagates_and_engine_stays_usable(loaded):
    def explode(piece):
        raise Boom("from the callback")
    raises(Boom, "from the callback", lambda: loaded.infer_stream("Hi", explode, max_tokens=8), "callback exception propagates")
    ok = loaded.infer("The capital of France is", max_tokens=4, temperature=0)
    assert ok.success and ok.tokens_generated > 0, f"engine usable after the errors: {ok!r}"


@pytest.mark.parametrize("cls, builtin", [
    (errors.InvalidArgumentError, ValueError), (errors.ModelNotFoundError, FileNotFoundError),
    (errors.FormatError, ValueError), (errors.UnsupportedError, NotImplementedError),
    (errors.LlcudaIOError, OSError), (errors.OutOfMemoryError, MemoryError),
    (errors.InternalError, RuntimeError), (errors.NotFoundError, LookupError)], ids=lambda c: c.__name__)
def test_error_classes(cls, builtin):
    """One base, each also the builtin it stands for."""
    assert issubclass(cls, llcuda.LlcudaError) and issubclass(cls, builtin), f"{cls.__name__} bases"


def test_unload_twice(loaded):
    loaded.unload_model()
    loaded.unload_model()  # twice is fine
    assert not loaded.is_loaded, "unloaded"
