#!/usr/bin/env python3
"""Bad input through the Python package: each case gives a clear exception (an LlcudaError subclass
that is also the builtin a Python programmer catches) naming the problem, or from infer() an
InferResult with success=False and that message; the engine stays usable afterwards. Model names
resolve through the model cache ($LLCUDA_MODEL_CACHE) without touching the network.
Usage: errors_test.py REPO_ROOT LLCUDA ENGINE_REFERENCE"""
import os
import tempfile
from pathlib import Path

from py_support import SMOLLM2, Checks, require_models

import llcuda
from llcuda import errors

check = Checks()
require_models(check, SMOLLM2)


def raises(kind, needle, call, what):
    """call() raises `kind` whose message contains `needle`."""
    try:
        call()
    except kind as e:
        check(needle in str(e), f"{what}: {type(e).__name__} without {needle!r}: {e}")
        return
    except Exception as e:  # the wrong class is a failure with the details
        check(False, f"{what}: expected {kind.__name__}, got {type(e).__name__}: {e}")
        return
    check(False, f"{what}: no exception")


def failed(result, needle, what):
    check(isinstance(result, llcuda.InferResult) and not result.success and needle in result.error_message
          and result.text == "", f"{what}: {result!r}")


engine = llcuda.InferenceEngine()
# No model yet: infer reports it, the others raise.
failed(engine.infer("Hi"), "no model is loaded", "infer before load_model")
raises(llcuda.InvalidArgumentError, "no model is loaded", lambda: engine.infer_stream("Hi", print), "infer_stream before load")
raises(ValueError, "no model is loaded", lambda: engine.batch_infer(["Hi"]), "batch_infer before load (a ValueError too)")
check(engine.is_loaded is False, "is_loaded before load_model")

# Missing files and names: ModelNotFoundError, which is a FileNotFoundError.
raises(FileNotFoundError, "/nonexistent/model.gguf", lambda: engine.load_model("/nonexistent/model.gguf"), "missing file")
raises(llcuda.ModelNotFoundError, "gemma-3-1b-it-Q4_K_M.gguf",
       lambda: engine.load_model("gemma-3-1b-Q4_K_M", offline=True), "well-known name not in the cache (offline)")
raises(llcuda.InvalidArgumentError, "model_name_or_path", lambda: engine.load_model(42), "model path of the wrong type")
raises(TypeError, "bogus_option", lambda: engine.load_model(SMOLLM2, bogus_option=1), "unknown load option")
raises(llcuda.InvalidArgumentError, "backend", lambda: engine.load_model(SMOLLM2, backend="tpu"), "unknown backend")
raises(llcuda.InvalidArgumentError, "ctx_size", lambda: engine.load_model(SMOLLM2, ctx_size=-5), "negative ctx_size")

with tempfile.TemporaryDirectory() as d:
    # Not a GGUF: FormatError (a ValueError) naming the file's problem.
    junk = Path(d) / "junk.gguf"
    junk.write_bytes(b"definitely not a gguf file" * 10)
    raises(llcuda.FormatError, "magic", lambda: engine.load_model(junk), "junk file")
    raises(llcuda.LlcudaIOError, "not a regular file", lambda: engine.load_model(Path(d)), "a directory")

    # "repo:file" and well-known names are found in $LLCUDA_MODEL_CACHE, as <owner>/<repo>/<file>.
    os.environ["LLCUDA_MODEL_CACHE"] = d
    check(llcuda.model_cache_dir() == Path(d), f"model_cache_dir {llcuda.model_cache_dir()} != {d}")
    placed = Path(d) / "someone" / "tiny-GGUF" / "model-Q4_1.gguf"
    placed.parent.mkdir(parents=True)
    placed.symlink_to(SMOLLM2)
    check(llcuda.resolve_model("someone/tiny-GGUF:model-Q4_1.gguf") == placed, "repo:file in the cache")
    (Path(d) / "SmolLM2-135M-Instruct.Q4_1.gguf").symlink_to(SMOLLM2)
    check(llcuda.resolve_model("smollm2-135m-Q4_1") == Path(d) / "SmolLM2-135M-Instruct.Q4_1.gguf",
          "well-known name stored flat by fetch-models.sh")
    raises(llcuda.ModelNotFoundError, str(Path(d) / "someone" / "other-GGUF" / "x.gguf"),
           lambda: llcuda.resolve_model("someone/other-GGUF:x.gguf", offline=True),
           "repo:file not in the cache names the path (offline: no download)")
    check(engine.load_model("someone/tiny-GGUF:model-Q4_1.gguf") and engine.is_loaded, "load_model('repo:file')")
    del os.environ["LLCUDA_MODEL_CACHE"]

# Bad generation arguments: infer reports them, the others raise; the engine then works.
failed(engine.infer("Hi", max_tokens=-1), "max_tokens must be >= 0", "negative max_tokens")
failed(engine.infer("Hi", max_tokens="many"), "max_tokens must be an int", "max_tokens of the wrong type")
failed(engine.infer(123), "prompt must be a str", "prompt of the wrong type")
failed(engine.infer("Hi", top_p=1.5), "top_p", "top_p out of range (the engine's validate)")
failed(engine.infer("Hi", temperature="hot"), "temperature", "temperature of the wrong type")
failed(engine.infer("Hi", no_such_sampler=1), "no_such_sampler", "unknown sampling argument")
failed(engine.infer(""), "empty", "empty prompt")
failed(engine.infer("word " * 5000, max_tokens=1), "context", "prompt longer than the context")
raises(llcuda.InvalidArgumentError, "max_tokens", lambda: engine.batch_infer(["a", "b"], max_tokens=-3), "batch max_tokens")
raises(llcuda.InvalidArgumentError, "prompts must be a list of str", lambda: engine.batch_infer("a prompt"), "batch of a str")
raises(llcuda.InvalidArgumentError, "callable", lambda: engine.infer_stream("Hi", None), "callback None")
raises(llcuda.InvalidArgumentError, "messages", lambda: engine.create_chat_completion("Hi"), "messages as a str")
raises(llcuda.InvalidArgumentError, "role", lambda: engine.create_chat_completion([{"content": "Hi"}]), "no role")
raises(llcuda.InvalidArgumentError, "response_format",
       lambda: engine.create_chat_completion([{"role": "user", "content": "Hi"}], response_format={"type": "yaml"}),
       "unknown response_format")
raises(llcuda.InvalidArgumentError, "tool_choice names 'nope'",
       lambda: engine.create_chat_completion([{"role": "user", "content": "Hi"}], tool_choice={"function": {"name": "nope"}},
                                             tools=[{"type": "function", "function": {"name": "f"}}]), "unknown tool")


class Boom(Exception):
    pass


def explode(piece):
    raise Boom("from the callback")


raises(Boom, "from the callback", lambda: engine.infer_stream("Hi", explode, max_tokens=8), "callback exception propagates")
ok = engine.infer("The capital of France is", max_tokens=4, temperature=0)
check(ok.success and ok.tokens_generated > 0, f"engine usable after the errors: {ok!r}")

# The error classes: one base, each also the builtin it stands for.
for cls, builtin in ((errors.InvalidArgumentError, ValueError), (errors.ModelNotFoundError, FileNotFoundError),
                     (errors.FormatError, ValueError), (errors.UnsupportedError, NotImplementedError),
                     (errors.LlcudaIOError, OSError), (errors.OutOfMemoryError, MemoryError),
                     (errors.InternalError, RuntimeError), (errors.NotFoundError, LookupError)):
    check(issubclass(cls, llcuda.LlcudaError) and issubclass(cls, builtin), f"{cls.__name__} bases")
engine.unload_model()
engine.unload_model()  # twice is fine
check(not engine.is_loaded, "unloaded")
check.finish()
