#include "openai_request.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "api_error.h"
#include "llcuda/error.h"

namespace llcuda::server {

namespace {

using Json = nlohmann::json;

[[noreturn]] void bad(const std::string& param, const std::string& what) {
    throw ApiError(400, fmt::format("'{}' {}", param, what), param);
}

// A field that is absent or null counts as not given.
const Json* field(const Json& body, const char* key) {
    const auto it = body.find(key);
    return it == body.end() || it->is_null() ? nullptr : &*it;
}

bool get_bool(const Json& body, const char* key, bool fallback) {
    const Json* v = field(body, key);
    if (!v) return fallback;
    if (!v->is_boolean()) bad(key, "must be a boolean");
    return v->get<bool>();
}

double get_number(const Json& body, const char* key, double fallback, double lo, double hi) {
    const Json* v = field(body, key);
    if (!v) return fallback;
    if (!v->is_number()) bad(key, "must be a number");
    const double x = v->get<double>();
    if (!std::isfinite(x) || x < lo || x > hi) bad(key, fmt::format("must be between {} and {}", lo, hi));
    return x;
}

int64_t get_int(const Json& body, const char* key, int64_t fallback, int64_t lo, int64_t hi) {
    const Json* v = field(body, key);
    if (!v) return fallback;
    if (!v->is_number_integer()) bad(key, "must be an integer");
    if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) {
        bad(key, fmt::format("must be between {} and {}", lo, hi));
    }
    const int64_t x = v->get<int64_t>();
    if (x < lo || x > hi) bad(key, fmt::format("must be between {} and {}", lo, hi));
    return x;
}

// "content" of a message: a string, null, or an array of {"type": "text", "text": ...} parts.
std::string message_content(const Json& content, size_t i) {
    const std::string param = fmt::format("messages[{}].content", i);
    if (content.is_null()) return "";
    if (content.is_string()) return content.get<std::string>();
    if (!content.is_array()) bad(param, "must be a string or an array of content parts");
    std::string text;
    for (const auto& part : content) {
        if (!part.is_object() || part.value("type", Json()) != "text" || !part.contains("text") ||
            !part["text"].is_string()) {
            bad(param, "parts must be {\"type\": \"text\", \"text\": ...} (only text is supported)");
        }
        text += part["text"].get<std::string>();
    }
    return text;
}

// Messages in the shape chat templates expect: role and content strings, tool calls with their
// arguments as objects (OpenAI sends them as JSON text), tool results with their call id.
Json normalize_messages(const Json& messages) {
    if (!messages.is_array() || messages.empty()) bad("messages", "must be a non-empty array");
    Json out = Json::array();
    for (size_t i = 0; i < messages.size(); ++i) {
        const Json& m = messages[i];
        const std::string at = fmt::format("messages[{}]", i);
        if (!m.is_object()) bad(at, "must be an object");
        const Json* role = field(m, "role");
        if (!role || !role->is_string()) bad(at + ".role", "must be a string");
        std::string r = role->get<std::string>();
        if (r == "developer") r = "system";
        if (r != "system" && r != "user" && r != "assistant" && r != "tool") {
            bad(at + ".role", "must be one of system, developer, user, assistant, tool");
        }
        Json n = {{"role", r}, {"content", message_content(m.contains("content") ? m["content"] : Json(), i)}};
        if (const Json* calls = field(m, "tool_calls")) {
            if (!calls->is_array()) bad(at + ".tool_calls", "must be an array");
            Json list = Json::array();
            for (const auto& c : *calls) {
                if (!c.is_object() || !c.contains("function") || !c["function"].is_object()) {
                    bad(at + ".tool_calls", "entries must be {\"type\": \"function\", \"function\": {...}}");
                }
                Json fn = c["function"];
                if (!fn.contains("name") || !fn["name"].is_string()) bad(at + ".tool_calls", "function.name must be a string");
                if (fn.contains("arguments") && fn["arguments"].is_string()) {
                    Json args = Json::parse(fn["arguments"].get<std::string>(), nullptr, false);
                    fn["arguments"] = args.is_discarded() ? Json::object() : args;
                }
                Json call = {{"type", "function"}, {"function", fn}};
                if (c.contains("id") && c["id"].is_string()) call["id"] = c["id"];
                list.push_back(call);
            }
            n["tool_calls"] = list;
        }
        for (const char* key : {"tool_call_id", "name"}) {
            if (const Json* v = field(m, key)) {
                if (!v->is_string()) bad(at + "." + key, "must be a string");
                n[key] = *v;
            }
        }
        out.push_back(n);
    }
    return out;
}

std::vector<int32_t> token_list(const Json& a, const std::string& param, uint32_t n_vocab) {
    std::vector<int32_t> ids;
    for (const auto& t : a) {
        if (!t.is_number_integer()) bad(param, "token lists must hold integers");
        const bool in_range = t.is_number_unsigned() ? t.get<uint64_t>() < n_vocab
                                                     : t.get<int64_t>() >= 0 && t.get<int64_t>() < int64_t(n_vocab);
        const int64_t id = in_range ? t.get<int64_t>() : -1;
        if (!in_range) {
            bad(param, fmt::format("holds token id {} outside the vocabulary of {}", t.dump(), n_vocab));
        }
        ids.push_back(int32_t(id));
    }
    return ids;
}

// "prompt": a string, an array of strings, a token list or an array of token lists.
std::vector<std::vector<int32_t>> completion_prompts(const Json& body, const InferenceEngine& engine,
                                                     const Limits& limits) {
    const Json* p = field(body, "prompt");
    if (!p) bad("prompt", "is required");
    const uint32_t n_vocab = engine.model_info().n_vocab;
    std::vector<std::vector<int32_t>> out;
    if (p->is_string()) {
        out.push_back(engine.tokenize(p->get<std::string>(), true));
    } else if (p->is_array() && !p->empty() && (*p)[0].is_number()) {
        out.push_back(token_list(*p, "prompt", n_vocab));
    } else if (p->is_array() && !p->empty()) {
        if (p->size() > limits.max_prompts) bad("prompt", fmt::format("may hold at most {} prompts", limits.max_prompts));
        for (const auto& e : *p) {
            if (e.is_string()) out.push_back(engine.tokenize(e.get<std::string>(), true));
            else if (e.is_array()) out.push_back(token_list(e, "prompt", n_vocab));
            else bad("prompt", "must be a string, an array of strings or an array of token ids");
        }
    } else {
        bad("prompt", "must be a non-empty string, array of strings or array of token ids");
    }
    return out;
}

std::vector<std::string> stop_strings(const Json& body) {
    const Json* s = field(body, "stop");
    if (!s) return {};
    std::vector<std::string> out;
    if (s->is_string()) {
        out.push_back(s->get<std::string>());
    } else if (s->is_array()) {
        if (s->size() > 4) bad("stop", "may hold at most 4 strings");
        for (const auto& e : *s) {
            if (!e.is_string()) bad("stop", "must be a string or an array of strings");
            out.push_back(e.get<std::string>());
        }
    } else {
        bad("stop", "must be a string or an array of strings");
    }
    for (const auto& x : out) {
        if (x.empty()) bad("stop", "strings must not be empty");
    }
    return out;
}

// response_format: text, json_object (any JSON object) or json_schema (that schema).
void response_format(const Json& body, SamplingParams& p) {
    const Json* f = field(body, "response_format");
    if (!f) return;
    if (!f->is_object() || !f->contains("type") || !(*f)["type"].is_string()) {
        bad("response_format", "must be an object with a string 'type'");
    }
    const std::string type = (*f)["type"];
    if (type == "text") return;
    if (type == "json_object") {
        p.json_schema = R"({"type": "object"})";
    } else if (type == "json_schema") {
        const Json* js = field(*f, "json_schema");
        if (!js || !js->is_object()) bad("response_format.json_schema", "must be an object");
        const Json* schema = field(*js, "schema");
        p.json_schema = schema ? schema->dump() : R"({"type": "object"})";
    } else {
        bad("response_format.type", "must be text, json_object or json_schema");
    }
}

Json with_tool_system_prompt(Json messages, const Json& tools) {
    std::string text =
        "You may call one or more functions to assist with the user query.\n\n"
        "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n";
    for (const auto& t : tools) text += t.dump() + "\n";
    text +=
        "</tools>\n\nFor each function call, return a json object with function name and arguments within "
        "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
        "<args-json-object>}\n</tool_call>";
    if (!messages.empty() && messages[0]["role"] == "system") {
        messages[0]["content"] = messages[0]["content"].get<std::string>() + "\n\n" + text;
    } else {
        messages.insert(messages.begin(), Json{{"role", "system"}, {"content", text}});
    }
    return messages;
}

}  // namespace

CompletionRequest parse_completion_request(const Json& body, bool chat, const InferenceEngine& engine,
                                           const Limits& limits) {
    if (!body.is_object()) throw ApiError(400, "the request body must be a JSON object");
    if (const Json* m = field(body, "model"); m && !m->is_string()) bad("model", "must be a string");
    CompletionRequest r;
    r.chat = chat;
    SamplingParams& p = r.params;
    // OpenAI's defaults: plain sampling over the whole vocabulary, no penalties.
    p.temperature = float(get_number(body, "temperature", 1.0, 0.0, 2.0));
    p.top_p = float(get_number(body, "top_p", 1.0, 0.0, 1.0));
    if (p.top_p == 0) p.top_p = 1e-6f;  // "only the most likely token", which validate() spells this way
    p.top_k = int32_t(get_int(body, "top_k", 0, -1, 1 << 20));
    p.min_p = float(get_number(body, "min_p", 0.0, 0.0, 1.0));
    p.typical_p = float(get_number(body, "typical_p", 1.0, 1e-6, 1.0));
    p.presence_penalty = float(get_number(body, "presence_penalty", 0.0, -2.0, 2.0));
    p.frequency_penalty = float(get_number(body, "frequency_penalty", 0.0, -2.0, 2.0));
    p.repetition_penalty = float(get_number(body, "repetition_penalty", 1.0, 1e-3, 10.0));
    p.penalty_last_n = -1;
    if (const Json* s = field(body, "seed")) {
        if (!s->is_number_integer()) bad("seed", "must be an integer");
        p.seed = s->is_number_unsigned() ? s->get<uint64_t>() : uint64_t(s->get<int64_t>());
    }
    p.stop = stop_strings(body);
    p.ignore_eos = get_bool(body, "ignore_eos", false);
    const int64_t max_tokens_cap = limits.n_ctx;
    int64_t max_tokens = get_int(body, "max_tokens", -1, 0, max_tokens_cap);
    if (chat) max_tokens = get_int(body, "max_completion_tokens", max_tokens, 0, max_tokens_cap);
    r.max_tokens_given = max_tokens >= 0;
    p.max_tokens = r.max_tokens_given ? uint32_t(max_tokens) : limits.n_ctx;  // else: until the context is full
    r.n = uint32_t(get_int(body, "n", 1, 1, limits.max_n));
    r.stream = get_bool(body, "stream", false);
    if (const Json* so = field(body, "stream_options")) {
        if (!so->is_object()) bad("stream_options", "must be an object");
        r.include_usage = get_bool(*so, "include_usage", false);
    }
    if (chat) {
        r.logprobs = get_bool(body, "logprobs", false);
        r.top_logprobs = uint32_t(get_int(body, "top_logprobs", 0, 0, 20));
        if (r.top_logprobs > 0 && !r.logprobs) bad("top_logprobs", "needs logprobs: true");
    } else {
        const int64_t lp = get_int(body, "logprobs", -1, 0, 20);
        r.logprobs = lp >= 0;
        r.top_logprobs = lp > 0 ? uint32_t(lp) : 0;
    }
    // The engine reports top alternatives only with logprobs > 0; ask for one and trim when 0.
    if (r.logprobs) p.logprobs = std::max<uint32_t>(1, r.top_logprobs);
    response_format(body, p);

    if (chat) {
        const Json* messages = field(body, "messages");
        if (!messages) bad("messages", "is required");
        const Json normalized = normalize_messages(*messages);
        std::string tools_text;
        bool tool_choice_none = false;
        if (const Json* choice = field(body, "tool_choice")) {
            if (choice->is_string()) {
                const std::string c = *choice;
                if (c != "none" && c != "auto" && c != "required") bad("tool_choice", "must be none, auto, required or an object");
                tool_choice_none = c == "none";
            } else if (!choice->is_object()) {
                bad("tool_choice", "must be none, auto, required or an object");
            }
        }
        if (const Json* tools = field(body, "tools")) {
            if (!tools->is_array()) bad("tools", "must be an array");
            for (const auto& t : *tools) {
                if (!t.is_object() || !t.contains("function") || !t["function"].is_object() ||
                    !t["function"].contains("name") || !t["function"]["name"].is_string()) {
                    bad("tools", "entries must be {\"type\": \"function\", \"function\": {\"name\": ...}}");
                }
            }
            if (!tools->empty() && !tool_choice_none) {
                tools_text = tools->dump();
                r.tools = true;
            }
        }
        try {
            std::vector<int32_t> prompt = engine.chat_prompt_tokens(normalized.dump(), tools_text);
            // A template that ignores `tools` (many small models' do): describe them in a system
            // message in the Hermes format, which parse_tool_calls reads back.
            if (r.tools && prompt == engine.chat_prompt_tokens(normalized.dump())) {
                prompt = engine.chat_prompt_tokens(with_tool_system_prompt(normalized, *field(body, "tools")).dump());
            }
            r.prompts.push_back(std::move(prompt));
        } catch (const Error& e) {
            throw ApiError(400, e.what(), "messages");
        } catch (const nlohmann::json::exception& e) {
            throw ApiError(400, fmt::format("the chat template could not render these messages: {}", e.what()), "messages");
        }
    } else {
        r.prompts = completion_prompts(body, engine, limits);
    }
    for (const auto& prompt : r.prompts) {
        if (prompt.empty()) bad(chat ? "messages" : "prompt", "gives an empty prompt");
        if (prompt.size() >= limits.n_ctx) {
            throw ApiError(400,
                           fmt::format("the prompt has {} tokens but the context holds {} (leave room to generate)",
                                       prompt.size(), limits.n_ctx),
                           chat ? "messages" : "prompt", "context_length_exceeded");
        }
    }
    try {
        validate(p);
    } catch (const Error& e) {
        throw ApiError(400, e.what());
    }
    return r;
}

}  // namespace llcuda::server
