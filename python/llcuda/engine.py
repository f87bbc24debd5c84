"""``llcuda.InferenceEngine``: the calls existing llcuda users write, answered by the native engine
in this process (no server, no HTTP).

Every call hands its work to the C++ ``llcuda::InferenceEngine`` through ``llcuda._llcuda`` with the
GIL released; Python only converts arguments and results. Calls may come from several threads at
once; ``load_model``/``unload_model`` wait for running calls. A generation running on the main
thread stops at Ctrl-C with ``KeyboardInterrupt``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Union

from . import _llcuda
from ._streaming import PieceStream
from .chat_completion import (FINISH_REASONS, chunk_dict, completion_dict, logprobs_dict, new_id, parse_tool_call,
                              plan_tools, to_chat_messages)
from .errors import InvalidArgumentError
from .models import resolve_model
from .sampling import make_params

# load_model arguments of the earlier, server-based llcuda that have no meaning in-process.
_IGNORED_LOAD_OPTIONS = {"auto_start", "auto_configure", "verbose", "interactive_download", "silent", "batch_size",
                         "ubatch_size"}
_BACKENDS = {"auto": _llcuda.Backend.Auto, "cpu": _llcuda.Backend.Cpu, "cuda": _llcuda.Backend.Cuda}
_KV_TYPES = {"f16": _llcuda.KvCacheType.F16, "q8_0": _llcuda.KvCacheType.Q8_0}


@dataclass
class InferResult:
    """The outcome of one generation. ``str(result)`` is the text.

    Attributes: ``success`` (False when the call failed; ``infer`` reports failures this way instead
    of raising), ``text``, ``tokens_generated``, ``latency_ms`` (whole call), ``tokens_per_sec``
    (generated tokens / generation time), ``error_message`` (why it failed, else ""),
    ``finish_reason``, ``prompt_tokens``, ``token_ids`` (generated ids), ``logprobs``.
    """

    success: bool = False
    text: str = ""
    tokens_generated: int = 0
    latency_ms: float = 0.0
    tokens_per_sec: float = 0.0
    error_message: str = ""
    finish_reason: str = ""
    """'stop' (end-of-generation token), 'length', 'stop_string' or 'cancelled'."""
    prompt_tokens: int = 0
    token_ids: List[int] = field(default_factory=list)
    logprobs: list = field(default_factory=list)
    """Per token, when logprobs=n was asked: TokenLogprob (token, text, logprob, top)."""

    @classmethod
    def from_native(cls, r: "_llcuda.InferenceResult") -> "InferResult":
        """From the engine's InferenceResult."""
        return cls(success=True, text=r.text, tokens_generated=r.n_generated_tokens, latency_ms=r.latency_ms,
                   tokens_per_sec=r.tokens_per_sec, finish_reason=r.finish_reason, prompt_tokens=r.n_prompt_tokens,
                   token_ids=list(r.tokens), logprobs=list(r.logprobs))

    def __repr__(self) -> str:
        if self.success:
            return (f"InferResult(tokens={self.tokens_generated}, latency={self.latency_ms:.2f}ms, "
                    f"throughput={self.tokens_per_sec:.2f} tok/s)")
        return f"InferResult(Error: {self.error_message})"

    def __str__(self) -> str:
        return self.text


def _seed(seed: Optional[int]) -> Optional[int]:
    # Earlier llcuda: seed 0 means a random seed.
    return None if seed in (None, 0) else seed


class InferenceEngine:
    """A GGUF model loaded in this process.

    >>> with llcuda.InferenceEngine() as engine:
    ...     engine.load_model("gemma-3-1b-Q4_K_M")
    ...     print(engine.infer("What is AI?", max_tokens=64).text)
    """

    def __init__(self, server_url: Optional[str] = None):
        """``server_url`` is accepted for compatibility with the server-based llcuda and ignored."""
        self._engine = _llcuda.Engine()
        self._model_name = ""

    # ---- model --------------------------------------------------------------------------------

    def load_model(self, model_name_or_path: Union[str, os.PathLike], gpu_layers: Optional[int] = None,
                   ctx_size: Optional[int] = None, n_parallel: int = 1, **options: Any) -> bool:
        """Load a model, replacing any loaded one; returns True.

        ``model_name_or_path``: a GGUF path, a ``"owner/repo:file.gguf"`` name or a well-known name
        (``llcuda.models.WELL_KNOWN``), looked up in the model cache and downloaded from the hub when
        missing (``llcuda.models.resolve_model``; options ``offline`` and ``download_progress``).
        ``gpu_layers``: 0 runs on the CPU; None or any positive number puts the whole model on the
        GPU when there is a usable one (partial offload does not exist here).
        ``ctx_size``: context length in tokens (None: the model's, capped at 4096).
        ``n_parallel``: sequences generated at once (batch_infer, concurrent calls); 1 keeps the
        backend's default.
        ``options``: ``backend`` ("auto", "cpu", "cuda"), ``n_threads``, ``kv_block_size``,
        ``prefill_chunk``, ``kv_type`` ("f16", "q8_0"), ``cuda_graphs``, ``f16_weight_copies`` (CUDA:
        an f16 copy of each quantized matrix for faster prompts, 2 bytes a weight; refused on the CPU). Arguments of the
        server-based llcuda (auto_start, verbose, batch_size, ...) are accepted and ignored.
        Raises ModelNotFoundError, InvalidArgumentError, FormatError, UnsupportedError, OutOfMemoryError.
        """
        path = resolve_model(model_name_or_path, offline=options.pop("offline", None),
                             progress=options.pop("download_progress", None))
        o = _llcuda.LoadOptions()
        backend = options.pop("backend", "auto")
        if backend not in _BACKENDS:
            raise InvalidArgumentError(f"backend must be one of {sorted(_BACKENDS)}, not {backend!r}")
        o.backend = _BACKENDS[backend]
        if gpu_layers is not None:
            if isinstance(gpu_layers, bool) or not isinstance(gpu_layers, int):
                raise InvalidArgumentError(f"gpu_layers must be an int or None, not {type(gpu_layers).__name__}")
            if gpu_layers == 0:
                if backend == "cuda":
                    raise InvalidArgumentError("gpu_layers=0 contradicts backend='cuda'")
                o.backend = _llcuda.Backend.Cpu
        for name, value in (("ctx_size", ctx_size), ("n_parallel", n_parallel)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise InvalidArgumentError(f"{name} must be a non-negative int, got {value!r}")
        if ctx_size:
            o.context_length = ctx_size
        if n_parallel and n_parallel > 1:
            o.max_sequences = n_parallel
        kv_type = options.pop("kv_type", None)
        if kv_type is not None:
            if kv_type not in _KV_TYPES:
                raise InvalidArgumentError(f"kv_type must be one of {sorted(_KV_TYPES)}, not {kv_type!r}")
            o.kv_type = _KV_TYPES[kv_type]
        for name in ("n_threads", "kv_block_size", "prefill_chunk", "cuda_graphs", "f16_weight_copies"):
            if name in options:
                try:
                    setattr(o, name, options.pop(name))
                except TypeError:
                    raise InvalidArgumentError(f"{name} has the wrong type or a negative value") from None
        unknown = sorted(set(options) - _IGNORED_LOAD_OPTIONS)
        if unknown:
            raise TypeError(f"load_model got unknown option(s): {', '.join(unknown)}")
        self._engine.load(path, o)
        self._model_name = os.fspath(model_name_or_path)
        return True

    def unload_model(self) -> None:
        """Free the model (waits for running calls). Safe to call when none is loaded."""
        self._engine.unload()

    @property
    def is_loaded(self) -> bool:
        """Whether a model is loaded."""
        return self._engine.is_loaded

    def model_info(self) -> "_llcuda.ModelInfo":
        """Architecture, vocabulary, context, parameters and backend of the loaded model."""
        return self._engine.model_info()

    def __enter__(self) -> "InferenceEngine":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.unload_model()
        return False

    # ---- generation ---------------------------------------------------------------------------

    def infer(self, prompt: str, max_tokens: int = 128, temperature: float = 0.7, top_p: float = 0.9,
              top_k: int = 40, seed: int = 0, stop_sequences: Optional[Sequence[str]] = None,
              **sampling: Any) -> InferResult:
        """Generate a continuation of ``prompt``. Never raises for a failed generation (bad
        arguments, no model, prompt too long, ...): the result has ``success=False`` and an
        ``error_message``. ``seed`` 0: a random seed. More sampling arguments (``min_p``,
        ``repetition_penalty``, ``grammar``, ``json_schema``, ``response_format``, ``logprobs``, ...)
        go to SamplingParams. Ctrl-C still raises KeyboardInterrupt."""
        try:
            params = make_params(max_tokens=max_tokens, temperature=temperature, top_p=top_p, top_k=top_k,
                                 seed=_seed(seed), stop=stop_sequences, **sampling)
            if not isinstance(prompt, str):
                raise InvalidArgumentError(f"prompt must be a str, not {type(prompt).__name__}")
            return InferResult.from_native(self._engine.generate(prompt, params, None))
        except Exception as e:  # reported in the result, as existing callers expect
            return InferResult(success=False, error_message=f"{type(e).__name__}: {e}")

    def infer_stream(self, prompt: str, callback: Callable[[str], Any], max_tokens: int = 128,
                     temperature: float = 0.7, **sampling: Any) -> InferResult:
        """As infer, calling ``callback(piece)`` for each piece of text as it is generated (whole
        UTF-8 characters; the pieces concatenate to ``result.text``). A callback returning False
        stops the generation (finish_reason 'cancelled'); an exception in it stops and propagates.
        Raises LlcudaError subclasses on failure."""
        if not callable(callback):
            raise InvalidArgumentError("callback must be callable")
        sampling.setdefault("top_p", 0.9)
        sampling.setdefault("top_k", 40)
        params = make_params(max_tokens=max_tokens, temperature=temperature,
                             seed=_seed(sampling.pop("seed", None)), stop=sampling.pop("stop_sequences", None),
                             **sampling)
        return InferResult.from_native(self._engine.generate(prompt, params, callback))

    def stream(self, prompt: str, max_tokens: int = 128, temperature: float = 0.7, **sampling: Any) -> Iterator[str]:
        """``for piece in engine.stream(prompt): ...`` -- the pieces as they are generated. Leaving
        the loop early stops the generation."""
        sampling.setdefault("top_p", 0.9)
        sampling.setdefault("top_k", 40)
        params = make_params(max_tokens=max_tokens, temperature=temperature,
                             seed=_seed(sampling.pop("seed", None)), stop=sampling.pop("stop_sequences", None),
                             **sampling)
        return iter(PieceStream(lambda on_piece: self._engine.generate(prompt, params, on_piece)))

    def batch_infer(self, prompts: Sequence[str], max_tokens: int = 128, **sampling: Any) -> List[InferResult]:
        """Generate for every prompt, all run as one batch by the engine (one forward pass per step
        carries every sequence). Raises LlcudaError subclasses on failure."""
        if isinstance(prompts, str) or not all(isinstance(p, str) for p in prompts):
            raise InvalidArgumentError("prompts must be a list of str")
        seed = _seed(sampling.pop("seed", None))
        params = make_params(max_tokens=max_tokens, seed=seed, stop=sampling.pop("stop_sequences", None), **sampling)
        return [InferResult.from_native(r) for r in self._engine.batch(list(prompts), params)]

    # ---- chat ---------------------------------------------------------------------------------

    def chat(self, messages: Sequence[Any], **kwargs: Any) -> Dict[str, Any]:
        """One chat turn through the model's chat template; the OpenAI-shaped chat.completion dict
        (``create_chat_completion`` without streaming)."""
        kwargs["stream"] = False
        return self.create_chat_completion(messages, **kwargs)  # type: ignore[return-value]

    def create_chat_completion(self, messages: Sequence[Any], *, max_tokens: Optional[int] = None,
                               temperature: float = 0.2, top_p: float = 0.95, top_k: int = 40, min_p: float = 0.05,
                               stop: Optional[Union[str, Sequence[str]]] = None, seed: Optional[int] = None,
                               stream: bool = False, tools: Optional[Sequence[Dict[str, Any]]] = None,
                               tool_choice: Any = None, response_format: Optional[Dict[str, Any]] = None,
                               grammar: Optional[str] = None, logprobs: Optional[bool] = None,
                               top_logprobs: Optional[int] = None, model: Optional[str] = None,
                               **sampling: Any) -> Union[Dict[str, Any], Iterator[Dict[str, Any]]]:
        """A chat completion shaped like OpenAI's (and llama-cpp-python's): a ``chat.completion``
        dict, or with ``stream=True`` an iterator of ``chat.completion.chunk`` dicts (role first, then
        one chunk per piece, then the finish reason). ``messages``: dicts with role and content.
        ``tools``/``tool_choice``: OpenAI function tools; a call comes back as ``message.tool_calls``
        with finish_reason "tool_calls". ``response_format`` ({"type": "json_object"} or
        "json_schema") and ``grammar`` (GBNF) constrain the output. ``max_tokens`` None: up to the
        end of the context. Raises LlcudaError subclasses."""
        chat_messages = to_chat_messages(messages)
        functions, tool_system, tool_schema = plan_tools(tools, tool_choice)
        if tool_system is not None:
            chat_messages.insert(0, _llcuda.ChatMessage("system", tool_system))
        if tool_schema and (response_format or grammar):
            raise InvalidArgumentError("a forced tool call cannot be combined with response_format or grammar")
        if max_tokens is None:
            max_tokens = self._engine.model_info().context_length
        # The engine reports n >= 1 alternatives per token; OpenAI's top_logprobs may be 0.
        n_top = top_logprobs or 0
        params = make_params(max_tokens=max_tokens, temperature=temperature, top_p=top_p, top_k=top_k, min_p=min_p,
                             seed=seed, stop=stop, response_format=response_format, grammar=grammar,
                             logprobs=max(1, n_top) if logprobs else 0, json_schema=tool_schema or None, **sampling)
        name = model or self._model_name

        def token_text(token: int) -> str:
            return self._engine.detokenize([token])

        if not stream:
            result = self._engine.chat(chat_messages, params, None)
            call = parse_tool_call(result.text, functions) if functions else None
            return completion_dict(result, name, call, logprobs_dict(result, token_text, n_top) if logprobs else None)
        return self._stream_chat(chat_messages, params, name, functions)

    def _stream_chat(self, chat_messages, params, name: str, functions) -> Iterator[Dict[str, Any]]:
        id_, created = new_id(), int(time.time())
        yield chunk_dict(id_, created, name, {"role": "assistant"}, None)
        if functions:  # a tool call is only known once the whole reply is there
            result = self._engine.chat(chat_messages, params, None)
            call = parse_tool_call(result.text, functions)
            if call is not None:
                yield chunk_dict(id_, created, name, {"tool_calls": [dict(call, index=0)]}, None)
                yield chunk_dict(id_, created, name, {}, "tool_calls")
                return
            yield chunk_dict(id_, created, name, {"content": result.text}, None)
        else:
            pieces = PieceStream(lambda on_piece: self._engine.chat(chat_messages, params, on_piece))
            for piece in pieces:
                yield chunk_dict(id_, created, name, {"content": piece}, None)
            result = pieces.result
        yield chunk_dict(id_, created, name, {}, FINISH_REASONS.get(result.finish_reason, "stop"))

    # ---- tokens and metrics -------------------------------------------------------------------

    def tokenize(self, text: str, add_special: bool = True) -> List[int]:
        """Token ids of ``text`` (BOS added when the model wants one and ``add_special``)."""
        return self._engine.tokenize(text, add_special)

    def detokenize(self, ids: Sequence[int]) -> str:
        """Text of token ids."""
        return self._engine.detokenize(list(ids))

    def apply_chat_template(self, messages: Sequence[Any], add_generation_prompt: bool = True) -> str:
        """The prompt the model's chat template renders for ``messages``."""
        return self._engine.apply_chat_template(to_chat_messages(messages), add_generation_prompt)

    def get_metrics(self) -> Dict[str, Dict[str, float]]:
        """Latency and throughput of the requests since load or reset_metrics():
        ``{"latency": {mean_ms, p50_ms, p95_ms, p99_ms, min_ms, max_ms, sample_count},
        "throughput": {total_tokens, total_requests, tokens_per_sec, requests_per_sec}}``.
        Percentiles interpolate as numpy.percentile does; rates are over the wall time from the first
        request's start to the last one's end."""
        m = self._engine.metrics()
        return {
            "latency": {"mean_ms": m.mean_ms, "p50_ms": m.p50_ms, "p95_ms": m.p95_ms, "p99_ms": m.p99_ms,
                        "min_ms": m.min_ms, "max_ms": m.max_ms, "sample_count": m.sample_count},
            "throughput": {"total_tokens": m.total_tokens, "total_requests": m.total_requests,
                           "tokens_per_sec": m.tokens_per_sec, "requests_per_sec": m.requests_per_sec},
        }

    def reset_metrics(self) -> None:
        """Forget the requests counted by get_metrics()."""
        self._engine.reset_metrics()


__all__ = ["InferenceEngine", "InferResult"]
