#!/usr/bin/env python3
"""Chat: create_chat_completion()'s greedy reply equals the C++ engine's chat() (engine_reference)
on both test models (SmolLM2's template adds no BOS, Gemma 3's writes it), streamed or not; every
dict validates against the openai package's ChatCompletion / ChatCompletionChunk types; usage counts
match the tokenizer; tools, response_format and grammar reach SamplingParams.
Usage: chat_test.py REPO_ROOT LLCUDA ENGINE_REFERENCE"""
import json
from types import SimpleNamespace

from openai.types.chat import ChatCompletion, ChatCompletionChunk
from py_support import GEMMA3, SMOLLM2, Checks, reference, require_models

import llcuda
from llcuda.chat_completion import completion_dict, parse_tool_call, plan_tools
from llcuda.sampling import build_params

check = Checks()
require_models(check, SMOLLM2, GEMMA3)
N = 24
question = "What is the capital of France?"


def valid(model_type, d, what):
    try:
        model_type.model_validate(d, strict=False)
        return True
    except Exception as e:  # pydantic.ValidationError: the message says which field
        check(False, f"{what}: not a valid {model_type.__name__}: {e}")
        return False


for name, model in (("smollm2", SMOLLM2), ("gemma3", GEMMA3)):
    engine = llcuda.InferenceEngine()
    engine.load_model(model)
    want = reference("chat", model, N, question)
    want = want["replies"][0] if want else None
    messages = [{"role": "user", "content": question}]

    d = engine.create_chat_completion(messages, max_tokens=N, temperature=0)
    if valid(ChatCompletion, d, f"{name} completion"):
        msg = d["choices"][0]["message"]
        check(msg["role"] == "assistant" and msg["content"] == want, f"{name}: chat {msg['content']!r} != C++ chat() {want!r}")
        rendered = engine.apply_chat_template(messages)
        # Gemma 3's template writes <bos> itself: no second one from the tokenizer (as llama.cpp does).
        n_prompt = len(engine.tokenize(rendered, add_special=name != "gemma3"))
        usage = d["usage"]
        check(usage["prompt_tokens"] == n_prompt and usage["total_tokens"] == n_prompt + usage["completion_tokens"]
              and 0 < usage["completion_tokens"] <= N, f"{name}: usage {usage}, prompt {n_prompt} tokens")
        check(d["choices"][0]["finish_reason"] in ("stop", "length") and d["object"] == "chat.completion"
              and d["id"].startswith("chatcmpl-"), f"{name}: {d}")

    # chat(): the same dict; content given as a list of text parts is the same message.
    c = engine.chat([{"role": "user", "content": [{"type": "text", "text": question}]}], max_tokens=N, temperature=0)
    check(valid(ChatCompletion, c, f"{name} chat()") and c["choices"][0]["message"]["content"] == want,
          f"{name}: chat() {c['choices'][0]['message']}")

    # Streaming: role first, content pieces concatenating to the reply, the finish reason last.
    chunks = list(engine.create_chat_completion(messages, max_tokens=N, temperature=0, stream=True))
    check(all(valid(ChatCompletionChunk, ch, f"{name} chunk") for ch in chunks), f"{name}: chunks")
    check(len(chunks) >= 4 and chunks[0]["choices"][0]["delta"] == {"role": "assistant"}
          and chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")
          and all(ch["choices"][0]["finish_reason"] is None for ch in chunks[:-1])
          and len({ch["id"] for ch in chunks}) == 1, f"{name}: chunk sequence {chunks[:2]} ... {chunks[-1:]}")
    text = "".join(ch["choices"][0]["delta"].get("content") or "" for ch in chunks)
    check(text == want, f"{name}: streamed chat {text!r} != {want!r}")

    # Two turns, with a system message: the second reply sees the first (engine_reference does the same).
    ref2 = reference("chat", model, N, "--system", "You are terse.", question, "And of Germany?")
    if name == "smollm2" and ref2:
        conv = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": question}]
        r1 = engine.create_chat_completion(conv, max_tokens=N, temperature=0)["choices"][0]["message"]
        conv += [r1, {"role": "user", "content": "And of Germany?"}]
        r2 = engine.create_chat_completion(conv, max_tokens=N, temperature=0)["choices"][0]["message"]["content"]
        check([r1["content"], r2] == ref2["replies"], f"two turns {[r1['content'], r2]} != {ref2['replies']}")

    # logprobs=True, top_logprobs=2: OpenAI's logprobs shape, one entry per generated token.
    lp = engine.create_chat_completion(messages, max_tokens=4, temperature=0, logprobs=True, top_logprobs=2)
    if valid(ChatCompletion, lp, f"{name} logprobs"):
        content = lp["choices"][0]["logprobs"]["content"]
        check(len(content) == lp["usage"]["completion_tokens"] and all(len(e["top_logprobs"]) == 2 for e in content)
              and "".join(e["token"] for e in content) == lp["choices"][0]["message"]["content"]
              and all(e["top_logprobs"][0]["logprob"] >= e["top_logprobs"][1]["logprob"] for e in content)
              and all(e["token"] == e["top_logprobs"][0]["token"] for e in content),  # greedy: the top token
              f"{name}: logprobs {content}")
    engine.unload_model()

# response_format / grammar / json_schema: passed through to SamplingParams as the engine expects
# (build_params: the fields only; whether the engine enforces them is the engine's tests' business).
schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
p = build_params(response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": schema}})
check(json.loads(p.json_schema) == schema and p.grammar == "", f"json_schema response_format: {p.json_schema!r}")
p = build_params(response_format={"type": "json_object"})
check(json.loads(p.json_schema) == {"type": "object"}, f"json_object: {p.json_schema!r}")
p = build_params(grammar='root ::= "yes" | "no"')
check(p.grammar == 'root ::= "yes" | "no"' and p.json_schema == "", f"grammar: {p.grammar!r}")
p = build_params(response_format={"type": "text"})
check(p.json_schema == "" and p.grammar == "", "response_format text: unconstrained")

# Through the engine: the constraint is obeyed, or (until constrained generation lands in the
# engine) refused by the engine as unsupported -- either way it reached SamplingParams.
engine = llcuda.InferenceEngine()
engine.load_model(SMOLLM2)
r = engine.infer("Is Paris in France? Answer:", max_tokens=4, temperature=0, grammar='root ::= " yes" | " no"')
check(r.success and r.text in (" yes", " no") or "UnsupportedError" in r.error_message, f"grammar via infer: {r!r}")
print("grammar:", "enforced" if r.success else "refused by the engine (" + r.error_message + ")")
try:
    d = engine.create_chat_completion([{"role": "user", "content": "Name a city as JSON."}], max_tokens=48,
                                      temperature=0, response_format={"type": "json_object"})
    content, finish = d["choices"][0]["message"]["content"], d["choices"][0]["finish_reason"]
    # Whole JSON when the model finished; a cut reply (length) must still open an object.
    check(isinstance(json.loads(content), dict) if finish == "stop" else content.lstrip().startswith("{"),
          f"json_object reply: {d}")
except llcuda.UnsupportedError as e:
    check("grammar" in str(e) or "schema" in str(e), f"response_format refused with {e}")
    print("response_format: refused by the engine:", e)
engine.unload_model()

# Tools: a forced function becomes a schema for {"name", "arguments"}; a reply in that shape becomes
# tool_calls, validated by openai's types.
weather = {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
                                            "parameters": schema}}
functions, system, forced = plan_tools([weather], {"type": "function", "function": {"name": "get_weather"}})
check(set(functions) == {"get_weather"} and "get_weather" in system
      and json.loads(forced)["properties"]["arguments"] == schema, f"forced tool schema: {forced}")
_, _, auto_schema = plan_tools([weather], "auto")
check(auto_schema == "" and plan_tools([weather], "none") == ({}, None, ""), "tool_choice auto/none")
call = parse_tool_call('{"name": "get_weather", "arguments": {"city": "Paris"}}', functions)
check(call is not None and json.loads(call["function"]["arguments"]) == {"city": "Paris"}, f"parse_tool_call: {call}")
check(parse_tool_call("Paris is sunny.", functions) is None
      and parse_tool_call('{"name": "other", "arguments": {}}', functions) is None, "non-calls stay content")
fake = SimpleNamespace(text="", finish_reason="stop", n_prompt_tokens=5, n_generated_tokens=7)
d = completion_dict(fake, "m", call, None)
check(valid(ChatCompletion, d, "tool call completion") and d["choices"][0]["finish_reason"] == "tool_calls"
      and d["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_weather", f"tool completion: {d}")

# With tools on a real model: a valid completion either way (the tiny model rarely calls).
engine = llcuda.InferenceEngine()
engine.load_model(SMOLLM2)
d = engine.create_chat_completion([{"role": "user", "content": "Weather in Paris?"}], tools=[weather],
                                  max_tokens=16, temperature=0)
check(valid(ChatCompletion, d, "completion with tools"), "completion with tools")
check.finish()
