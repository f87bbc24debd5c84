"""OpenAI-shaped chat completions (the dicts llama-cpp-python's ``create_chat_completion`` returns):
message normalisation, the response and chunk dicts, and tool calls.

Tool calls: the tools are described to the model in a system message asking for a JSON reply
``{"name": ..., "arguments": {...}}``. With ``tool_choice`` naming a function (or "required") the
reply is constrained to that shape through ``SamplingParams.json_schema`` (effective once the engine
enforces schemas); with "auto" a reply that parses as such a call to a listed tool becomes
``tool_calls``, anything else is ordinary content.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ._llcuda import ChatMessage
from .errors import InvalidArgumentError

# Engine finish reasons -> OpenAI's ("cancelled": the caller stopped reading, the text so far stands).
FINISH_REASONS = {"stop": "stop", "stop_string": "stop", "length": "length", "cancelled": "stop"}


def _content_text(content: Any, index: int) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):  # [{"type": "text", "text": ...}, ...]
        parts = []
        for part in content:
            if not isinstance(part, Mapping) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise InvalidArgumentError(f"message {index}: only text content parts are supported, got {part!r}")
            parts.append(part["text"])
        return "".join(parts)
    raise InvalidArgumentError(f"message {index}: content must be a string or a list of text parts")


def to_chat_messages(messages: Any) -> List[ChatMessage]:
    """ChatMessage list from OpenAI dicts, ChatMessage objects or (role, content) pairs. An assistant
    message's tool_calls are written as the JSON the model was asked to produce."""
    if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Sequence):
        raise InvalidArgumentError("messages must be a list of {'role': ..., 'content': ...} dicts")
    out = []
    for i, m in enumerate(messages):
        if isinstance(m, ChatMessage):
            out.append(ChatMessage(m.role, m.content))
            continue
        if isinstance(m, tuple) and len(m) == 2:
            role, content = m
        elif isinstance(m, Mapping):
            role, content = m.get("role"), m.get("content")
            calls = m.get("tool_calls")
            if calls:
                content = (_content_text(content, i) + "\n" if content else "") + "\n".join(
                    json.dumps({"name": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"])})
                    for c in calls)
        else:
            raise InvalidArgumentError(f"message {i} must be a dict with 'role' and 'content', not {type(m).__name__}")
        if not isinstance(role, str) or not role:
            raise InvalidArgumentError(f"message {i} has no 'role'")
        out.append(ChatMessage(role, _content_text(content, i)))
    if not out:
        raise InvalidArgumentError("messages is empty")
    return out


# ---- tools --------------------------------------------------------------------------------------

def _tool_functions(tools: Optional[Sequence[Mapping[str, Any]]]) -> Dict[str, Mapping[str, Any]]:
    functions: Dict[str, Mapping[str, Any]] = {}
    for i, tool in enumerate(tools or ()):
        if not isinstance(tool, Mapping) or tool.get("type") != "function" or not isinstance(tool.get("function"), Mapping):
            raise InvalidArgumentError(f"tools[{i}] must be {{'type': 'function', 'function': {{...}}}}")
        name = tool["function"].get("name")
        if not isinstance(name, str) or not name:
            raise InvalidArgumentError(f"tools[{i}] has no function name")
        functions[name] = tool["function"]
    return functions


def _call_schema(name: str, function: Mapping[str, Any]) -> Dict[str, Any]:
    return {"type": "object",
            "properties": {"name": {"const": name}, "arguments": function.get("parameters") or {"type": "object"}},
            "required": ["name", "arguments"]}


def plan_tools(tools, tool_choice) -> Tuple[Dict[str, Mapping[str, Any]], Optional[str], str]:
    """(functions offered, system text describing them or None, JSON Schema text forcing a call or "")."""
    functions = _tool_functions(tools)
    if not functions or tool_choice == "none":
        return {}, None, ""
    forced: List[str] = []
    if isinstance(tool_choice, Mapping):
        name = (tool_choice.get("function") or {}).get("name")
        if name not in functions:
            raise InvalidArgumentError(f"tool_choice names {name!r}, which is not among the tools")
        forced = [name]
    elif tool_choice == "required":
        forced = list(functions)
    elif tool_choice not in (None, "auto"):
        raise InvalidArgumentError(f"tool_choice must be 'none', 'auto', 'required' or a function, not {tool_choice!r}")
    offered = {n: functions[n] for n in (forced or functions)}
    listing = "\n".join(json.dumps({"name": n, "description": f.get("description", ""),
                                    "parameters": f.get("parameters", {})}) for n, f in offered.items())
    system = ("You can call these functions:\n" + listing + "\nTo call one, reply with only a JSON object "
              '{"name": <function name>, "arguments": <arguments object>}.')
    schema = ""
    if forced:
        options = [_call_schema(n, offered[n]) for n in forced]
        schema = json.dumps(options[0] if len(options) == 1 else {"anyOf": options})
    return offered, system, schema


def parse_tool_call(text: str, functions: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """The OpenAI tool_call dict when `text` is a JSON call of one of `functions`, else None."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.strip("`").removeprefix("json").strip()
    try:
        call = json.loads(stripped)
    except ValueError:
        return None
    if not isinstance(call, dict) or call.get("name") not in functions or not isinstance(call.get("arguments"), dict):
        return None
    return {"id": "call_" + uuid.uuid4().hex[:24], "type": "function",
            "function": {"name": call["name"], "arguments": json.dumps(call["arguments"])}}


# ---- response dicts -----------------------------------------------------------------------------

def new_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex


def logprobs_dict(result, token_text, n_top: int) -> Optional[Dict[str, Any]]:
    """OpenAI's choice.logprobs from InferenceResult.logprobs, `n_top` alternatives per token (None
    when none were asked for). `token_text(id)` is a token's text."""
    if not result.logprobs:
        return None

    def entry(text: str, logprob: float) -> Dict[str, Any]:
        return {"token": text, "logprob": logprob, "bytes": list(text.encode("utf-8"))}

    content = []
    for t in result.logprobs:
        item = entry(t.text, t.logprob)
        item["top_logprobs"] = [entry(token_text(tok), lp) for tok, lp in t.top[:n_top]]
        content.append(item)
    return {"content": content}


def completion_dict(result, model: str, tool_call: Optional[Dict[str, Any]], logprobs) -> Dict[str, Any]:
    """A chat.completion dict for one InferenceResult."""
    if tool_call is not None:
        message: Dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [tool_call]}
        finish = "tool_calls"
    else:
        message = {"role": "assistant", "content": result.text}
        finish = FINISH_REASONS.get(result.finish_reason, "stop")
    return {
        "id": new_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": logprobs, "finish_reason": finish}],
        "usage": {"prompt_tokens": result.n_prompt_tokens, "completion_tokens": result.n_generated_tokens,
                  "total_tokens": result.n_prompt_tokens + result.n_generated_tokens},
    }


def chunk_dict(id_: str, created: int, model: str, delta: Dict[str, Any], finish: Optional[str]) -> Dict[str, Any]:
    """One chat.completion.chunk of a streamed completion."""
    return {"id": id_, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
