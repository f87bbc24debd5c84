"""Keyword arguments -> :class:`SamplingParams` (the C++ struct, field for field).

The engine validates ranges (``llcuda.validate``); this module only checks what the C++ types cannot
say clearly (a negative ``max_tokens`` would otherwise be a type error about ``uint32``) and maps the
OpenAI-style ``response_format`` onto ``json_schema``.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional, Sequence

from . import _llcuda
from ._llcuda import SamplingParams
from .errors import InvalidArgumentError

# Keyword arguments that map 1:1 onto SamplingParams fields.
_FIELDS = ("temperature", "top_k", "top_p", "min_p", "typical_p", "repetition_penalty", "presence_penalty",
           "frequency_penalty", "penalty_last_n", "ignore_eos", "grammar", "json_schema")
# Other spellings users bring from llama-cpp-python / llama-server.
_ALIASES = {"repeat_penalty": "repetition_penalty", "repeat_last_n": "penalty_last_n", "n_predict": "max_tokens",
            "stop_sequences": "stop"}


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(f"{name} must be an int, not {type(value).__name__}")
    if value < 0:
        raise InvalidArgumentError(f"{name} must be >= 0, got {value}")
    if value > 0xFFFFFFFF:
        raise InvalidArgumentError(f"{name} is too large: {value}")
    return value


def schema_from_response_format(response_format: Optional[Mapping[str, Any]]) -> str:
    """JSON Schema text for an OpenAI ``response_format``: ``{"type": "json_object"}`` (any JSON
    object, or the ``schema`` llama-cpp-python lets it carry), ``{"type": "json_schema",
    "json_schema": {"schema": {...}}}``; ``{"type": "text"}`` or None: no constraint ("")."""
    if response_format is None:
        return ""
    if not isinstance(response_format, Mapping):
        raise InvalidArgumentError(f"response_format must be a dict, not {type(response_format).__name__}")
    kind = response_format.get("type")
    if kind == "text":
        return ""
    if kind == "json_object":
        return json.dumps(response_format.get("schema") or {"type": "object"})
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        if not isinstance(spec, Mapping) or not isinstance(spec.get("schema"), Mapping):
            raise InvalidArgumentError("response_format json_schema needs {'json_schema': {'schema': {...}}}")
        return json.dumps(spec["schema"])
    raise InvalidArgumentError(f"response_format type must be 'text', 'json_object' or 'json_schema', not {kind!r}")


def make_params(**arguments: Any) -> SamplingParams:
    """A validated SamplingParams (build_params, then the engine's own checks)."""
    p = build_params(**arguments)
    _llcuda.validate(p)
    return p


def build_params(*, max_tokens: int = 128, seed: Optional[int] = None, stop: Optional[Sequence[str]] = None,
                 logprobs: int = 0, response_format: Optional[Mapping[str, Any]] = None,
                 **fields: Any) -> SamplingParams:
    """SamplingParams from keyword arguments. ``seed`` None: a random seed. ``grammar`` is GBNF text;
    ``json_schema`` JSON Schema text (or a dict); ``response_format`` sets ``json_schema``. Raises
    InvalidArgumentError naming the bad argument, TypeError for an unknown one. The value ranges are
    checked by make_params (the engine's validate)."""
    for alias, field in _ALIASES.items():
        if alias in fields:
            value = fields.pop(alias)
            if field == "max_tokens":
                max_tokens = value
            elif field == "stop":
                stop = value
            else:
                fields.setdefault(field, value)
    unknown = sorted(set(fields) - set(_FIELDS))
    if unknown:
        raise TypeError(f"unknown sampling argument(s): {', '.join(unknown)}")
    p = SamplingParams()
    p.max_tokens = _count("max_tokens", max_tokens)
    p.logprobs = _count("logprobs", int(logprobs) if isinstance(logprobs, bool) else logprobs)
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise InvalidArgumentError(f"seed must be an int, not {type(seed).__name__}")
        p.seed = seed & 0xFFFFFFFFFFFFFFFF  # negative seeds (numpy style) wrap, as in llama.cpp
    if stop is not None:
        if isinstance(stop, str):
            stop = [stop]
        if not all(isinstance(s, str) for s in stop):
            raise InvalidArgumentError("stop must be a string or a list of strings")
        p.stop = list(stop)
    schema = fields.pop("json_schema", None)
    if isinstance(schema, Mapping):
        schema = json.dumps(schema)
    from_format = schema_from_response_format(response_format)
    if schema and from_format:
        raise InvalidArgumentError("give json_schema or response_format, not both")
    p.json_schema = schema or from_format
    grammar = fields.pop("grammar", None)
    if grammar is not None:
        if not isinstance(grammar, str):
            raise InvalidArgumentError(f"grammar must be GBNF text (str), not {type(grammar).__name__}")
        p.grammar = grammar
    for name, value in fields.items():
        if value is None:
            continue
        try:
            setattr(p, name, value)
        except TypeError:
            raise InvalidArgumentError(f"{name} has the wrong type: {value!r}") from None
    return p


__all__ = ["make_params", "build_params", "schema_from_response_format", "SamplingParams"]
