"""Chat: create_chat_completion()'s greedy reply equals the C++ engine's chat() (engine_reference)
on both test models (SmolLM2's template adds no BOS, Gemma 3's writes it), streamed or not; every
dict validates against the openai package's ChatCompletion / ChatCompletionChunk types; usage counts
match the tokenizer; tools, response_format and grammar reach SamplingParams.
Run by pytest (conftest.py)."""
import json
from types import SimpleNamespace

import pytest
from conftest import GEMMA3, SMOLLM2, require_model
from openai.types.chat import ChatCompletion, ChatCompletionChunk

import llcuda
from llcuda.chat_completion import completion_dict, parse_tool_call, plan_tools
from llcuda.sampling import build_params

N = 24
QUESTION = "What is the capital of France?"
MESSAGES = [{"role": "user", "content": QUESTION}]
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
                                            "parameters": SCHEMA}}


def validate(model_type, d, what):
    """d validates as the openai type (pydantic's message says which field otherwise)."""
    try:
        model_type.model_validate(d, strict=False)
    except Exception as e:
        pytest.fail(f"{what}: not a valid {model_type.__name__}: {e}")


@pytest.fixture(scope="module", params=[("smollm2", SMOLLM2), ("gemma3", GEMMA3)], ids=lambda p: p[0])
def chat_model(request, reference):
    """name, engine with the model loaded, and the C++ engine's greedy reply to QUESTION."""
    name, model = request.param
    model = require_model(model)
    engine = llcuda.InferenceEngine()
    engine.load_model(model)
    want = reference("chat", model, N, QUESTION)["replies"][0]
    yield SimpleNamespace(name=name, engine=engine, want=want)
    engine.unload_model()


def test_completion_equals_cpp_chat(chat_model):
    name, engine, want = chat_model.name, chat_model.engine, chat_model.want
    d = engine.create_chat_completion(MESSAGES, max_tokens=N, temperature=0)
    validate(ChatCompletion, d, f"{name} completion")
    msg = d["choices"][0]["message"]
    assert msg["role"] == "assistant" and msg["content"] == want, f"{name}: chat {msg['content']!r} != C++ chat() {want!r}"
    rendered = engine.apply_chat_template(MESSAGES)
    # Gemma 3's template writes <bos> itself: no second one from the tokenizer (as llama.cpp does).
    n_prompt = len(engine.tokenize(rendered, add_special=name != "gemma3"))
    usage = d["usage"]
    assert (usage["prompt_tokens"] == n_prompt and usage["total_tokens"] == n_prompt + usage["completion_tokens"]
            and 0 < usage["completion_tokens"] <= N), f"{name}: usage {usage}, prompt {n_prompt} tokens"
    assert (d["choices"][0]["finish_reason"] in ("stop", "length") and d["object"] == "chat.completion"
            and d["id"].startswith("chatcmpl-")), f"{name}: {d}"


def test_chat_with_text_parts(chat_model):
    """chat(): the same dict; content given as a list of text parts is the same message."""
    name = chat_model.name
    c = chat_model.engine.chat([{"role": "user", "content": [{"type": "text", "text": QUESTION}]}], max_tokens=N,
                               temperature=0)
    validate(ChatCompletion, c, f"{name} chat()")
    assert c["choices"][0]["message"]["content"] == chat_model.want, f"{name}: chat() {c['choices'][0]['message']}"


def test_streaming(chat_model):
    """Role first, content pieces concatenating to the reply, the finish reason last."""
    name = chat_model.name
    chunks = list(chat_model.engine.create_chat_completion(MESSAGES, max_tokens=N, temperature=0, stream=True))
    for ch in chunks:
        validate(ChatCompletionChunk, ch, f"{name} chunk")
    assert (len(chunks) >= 4 and chunks[0]["choices"][0]["delta"] == {"role": "assistant"}
            and chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")
            and all(ch["choices"][0]["finish_reason"] is None for ch in chunks[:-1])
            and len({ch["id"] for ch in chunks}) == 1), f"{name}: chunk sequence {chunks[:2]} ... {chunks[-1:]}"
    text = "".join(ch["choices"][0]["delta"].get("content") or "" for ch in chunks)
    assert text == chat_model.want, f"{name}: streamed chat {text!r} != {chat_model.want!r}"


def test_logprobs(chat_model):
    """logprobs=True, top_logprobs=2: OpenAI's logprobs shape, one entry per generated token."""
    name = chat_model.name
    lp = chat_model.engine.create_chat_completion(MESSAGES, max_tokens=4, temperature=0, logprobs=True, top_logprobs=2)
    validate(ChatCompletion, lp, f"{name} logprobs")
    content = lp["choices"][0]["logprobs"]["content"]
    assert (len(content) == lp["usage"]["completion_tokens"] and all(len(e["top_logprobs"]) == 2 for e in content)
            and "".join(e["token"] for e in content) == lp["choices"][0]["message"]["content"]
            and all(e["top_logprobs"][0]["logprob"] >= e["top_logprobs"][1]["logprob"] for e in content)
            and all(e["token"] == e["top_logprobs"][0]["token"] for e in content)), \
        f"{name}: logprobs {content}"  # greedy: the top token


@pytest.fixture(scope="module")
def smol(smollm2):
    engine = llcuda.InferenceEngine()
    engine.load_model(smollm2)
    yield engine
    engine.unload_model()


def test_two_turns_with_system(smol, smollm2, reference):
    """The second reply sees the first (engine_reference does the same)."""
    ref2 = reference("chat", smollm2, N, "--system", "You are terse.", QUESTION, "And of Germany?")
    conv = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": QUESTION}]
    r1 = smol.create_chat_completion(conv, max_tokens=N, temperature=0)["choices"][0]["message"]
    conv += [r1, {"role": "user", "content": "And of Germany?"}]
    r2 = smol.create_chat_completion(conv, max_tokens=N, temperature=0)["choices"][0]["message"]["content"]
    assert [r1["content"], r2] == ref2["replies"], f"two turns {[r1['content'], r2]} != {ref2['replies']}"


# response_format / grammar / json_schema: passed through to SamplingParams as the engine expects
# (build_params: the fields only; whether the engine enforces them is the engine's tests' business).
def test_build_params_json_schema():
    p = build_params(response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": SCHEMA}})
    assert json.loads(p.json_schema) == SCHEMA and p.grammar == "", f"json_schema response_format: {p.json_schema!r}"


def test_build_params_json_object():
    p = build_params(response_format={"type": "json_object"})
    assert json.loads(p.json_schema) == {"type": "object"}, f"json_object: {p.json_schema!r}"


def test_build_params_grammar():
    p = build_params(grammar='root ::= "yes" | "no"')
    assert p.grammar == 'root ::= "yes" | "no"' and p.json_schema == "", f"grammar: {p.grammar!r}"


def test_build_params_text():
    p = build_params(response_format={"type": "text"})
    assert p.json_schema == "" and p.grammar == "", "response_format text: unconstrained"


# Through the engine: the constraint is obeyed, or (until constrained generation lands in the
# engine) refused by the engine as unsupported -- either way it reached SamplingParams.
def test_grammar_through_infer(smol):
    r = smol.infer("Is Paris in France? Answer:", max_tokens=4, temperature=0, grammar='root ::= " yes" | " no"')
    assert r.success and r.text in (" yes", " no") or "UnsupportedError" in r.error_message, f"grammar via infer: {r!r}"
    print("grammar:", "enforced" if r.success else "refused by the engine (" + r.error_message + ")")


def test_response_format_through_chat(smol):
    try:
        d = smol.create_chat_completion([{"role": "user", "content": "Name a city as JSON."}], max_tokens=48,
                                        temperature=0, response_format={"type": "json_object"})
    except llcuda.UnsupportedError as e:
        print("response_format: refused by the engine:", e)
        assert "grammar" in str(e) or "schema" in str(e), f"response_format refused with {e}"
        return
    content, finish = d["choices"][0]["message"]["content"], d["choices"][0]["finish_reason"]
    # Whole JSON when the model finished; a cut reply (length) must still open an object.
    assert isinstance(json.loads(content), dict) if finish == "stop" else content.lstrip().startswith("{"), \
        f"json_object reply: {d}"


# Tools: a forced function becomes a schema for {"name", "arguments"}; a reply in that shape becomes
# tool_calls, validated by openai's types.
def test_plan_tools():
    functions, system, forced = plan_tools([WEATHER], {"type": "function", "function": {"name": "get_weather"}})
    assert (set(functions) == {"get_weather"} and "get_weather" in system
            and json.loads(forced)["properties"]["arguments"] == SCHEMA), f"forced tool schema: {forced}"
    _, _, auto_schema = plan_tools([WEATHER], "auto")
    assert auto_schema == "" and plan_tools([WEATHER], "none") == ({}, None, ""), "tool_choice auto/none"


def test_parse_tool_call_and_completion():
    functions, _, _ = plan_tools([WEATHER], {"type": "function", "function": {"name": "get_weather"}})
    call = parse_tool_call('{"name": "get_weather", "arguments": {"city": "Paris"}}', functions)
    assert call is not None and json.loads(call["function"]["arguments"]) == {"city": "Paris"}, f"parse_tool_call: {call}"
    assert (parse_tool_call("Paris is sunny.", functions) is None
            and parse_tool_call('{"name": "other", "arguments": {}}', functions) is None), "non-calls stay content"
    fake = SimpleNamespace(text="", finish_reason="stop", n_prompt_tokens=5, n_generated_tokens=7)
    d = completion_dict(fake, "m", call, None)
    validate(ChatCompletion, d, "tool call completion")
    assert (d["choices"][0]["finish_reason"] == "tool_calls"
            and d["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == "get_weather"), f"tool completion: {d}"


def test_completion_with_tools(smol):
    """With tools on a real model: a valid completion either way (the tiny model rarely calls)."""
    d = smol.create_chat_completion([{"role": "user", "content": "Weather in Paris?"}], tools=[WEATHER],
                                    max_tokens=16, temperature=0)
    validate(ChatCompletion, d, "completion with tools")
