// Chat templates: renders a model's Hugging Face chat template (a Jinja program stored in
// tokenizer_config.json or in the GGUF key tokenizer.chat_template) to the prompt text.
//
// Output is byte-identical to what `transformers` produces with jinja2 for the templates real
// models ship: same whitespace control (trim_blocks and lstrip_blocks on), same Undefined
// behaviour, same Python formatting of values, the same tojson (json.dumps with
// ensure_ascii=False) and the same globals (raise_exception, strftime_now, namespace, range).
//
// Errors are llcuda::Error. Syntax errors (FormatError) and unsupported Jinja features
// (Unsupported) are raised by parse(); runtime failures, including raise_exception() from the
// template and exceeded limits, by render()/apply(). Every message names the template line and
// column ("chat template line 3, column 12: ...").
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace llcuda {

namespace tmpl {
struct Program;
}

// Bounds on what one render may consume: a hostile template fails cleanly instead of hanging or
// exhausting memory.
struct TemplateLimits {
    size_t max_output_bytes = 64u << 20;
    size_t max_string_bytes = 64u << 20;        // any single string built while rendering
    uint64_t max_loop_iterations = 10'000'000;  // all loop iterations of one render
    int max_call_depth = 200;                   // nested macro calls
};

struct ChatRenderOptions {
    // Tool schemas (a JSON array) or null when the request has none; the template sees `tools`.
    nlohmann::ordered_json tools = nullptr;
    // Appends the header that starts the assistant's turn.
    bool add_generation_prompt = false;
    // More variables: special tokens (bos_token, eos_token), flags such as enable_thinking.
    nlohmann::ordered_json extra = nlohmann::ordered_json::object();
    // Retrieval documents, or null; the template sees `documents`.
    nlohmann::ordered_json documents = nullptr;
    // Time seen by strftime_now(); the current time when unset.
    std::optional<std::chrono::system_clock::time_point> now;
    // Like transformers: a message's reasoning under `reasoning_content`, `thinking` or
    // `reasoning` is made visible under `thinking` and `reasoning_content` too.
    bool alias_reasoning_fields = true;
    TemplateLimits limits;
};

class ChatTemplate {
public:
    // Parses a template; throws llcuda::Error on syntax errors or unsupported constructs.
    static ChatTemplate parse(std::string_view source);

    // What transformers' apply_chat_template(messages, tools=..., add_generation_prompt=...,
    // tokenize=False, **extra) returns. Object key order is kept (use ordered_json to control it;
    // a plain nlohmann::json converts implicitly, with its keys sorted).
    std::string apply(const nlohmann::ordered_json& messages, const ChatRenderOptions& options = {}) const;

    // Renders with exactly the given top-level variables (a JSON object) plus the globals.
    std::string render(const nlohmann::ordered_json& variables, const TemplateLimits& limits = {},
                       std::optional<std::chrono::system_clock::time_point> now = std::nullopt) const;

    const std::string& source() const { return source_; }

private:
    std::shared_ptr<const tmpl::Program> program_;
    std::string source_;
};

}  // namespace llcuda
