// Public chat-template API: parsing with jinja2's compile-time checks, and rendering with the
// variables transformers passes (messages, tools, documents, add_generation_prompt, extras).
#include "llcuda/chat_template.h"

#include "llcuda/error.h"
#include "template/interpreter.h"
#include "template/json.h"
#include "template/lexer.h"
#include "template/parser.h"

namespace llcuda {
namespace {

// transformers' _alias_reasoning_fields: {"thinking": r, **message, "reasoning_content": r}.
nlohmann::ordered_json alias_reasoning(const nlohmann::ordered_json& messages) {
    if (!messages.is_array()) return messages;
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& m : messages) {
        const nlohmann::ordered_json* reasoning = nullptr;
        if (m.is_object())
            for (const char* key : {"reasoning_content", "thinking", "reasoning"}) {
                auto it = m.find(key);
                if (it != m.end() && !it->is_null()) {
                    reasoning = &*it;
                    break;
                }
            }
        if (!reasoning) {
            out.push_back(m);
            continue;
        }
        nlohmann::ordered_json a = nlohmann::ordered_json::object();
        a["thinking"] = *reasoning;
        for (auto it = m.begin(); it != m.end(); ++it) a[it.key()] = it.value();
        a["reasoning_content"] = *reasoning;
        out.push_back(std::move(a));
    }
    return out;
}

}  // namespace

ChatTemplate ChatTemplate::parse(std::string_view source) {
    ChatTemplate t;
    auto program = std::make_shared<tmpl::Program>(tmpl::parse_template(source));
    t.program_ = std::move(program);
    t.source_ = std::string(source);
    return t;
}

std::string ChatTemplate::render(const nlohmann::ordered_json& variables, const TemplateLimits& limits,
                                 std::optional<std::chrono::system_clock::time_point> now) const {
    if (!program_) throw Error(ErrorKind::InvalidArgument, "chat template: render() on an empty template");
    if (!variables.is_object() && !variables.is_null()) throw Error(ErrorKind::InvalidArgument, "chat template: variables must be a JSON object");
    try {
        auto globals = std::make_shared<tmpl::Frame>();
        tmpl::add_builtins(*globals);
        if (variables.is_object())
            for (auto it = variables.begin(); it != variables.end(); ++it) globals->vars[it.key()] = tmpl::from_json(it.value());
        tmpl::Limits l{limits.max_output_bytes, limits.max_string_bytes, limits.max_loop_iterations, limits.max_call_depth};
        auto clock = [now]() { return now ? *now : std::chrono::system_clock::now(); };
        tmpl::Interpreter in(l, clock);
        return in.render(*program_, globals);
    } catch (const tmpl::TemplateError& e) {  // raised outside any template node (input conversion)
        throw Error(e.kind, std::string("chat template: ") + e.what());
    } catch (const std::bad_alloc&) {
        throw Error(ErrorKind::OutOfMemory, "chat template: out of memory while rendering");
    }
}

std::string ChatTemplate::apply(const nlohmann::ordered_json& messages, const ChatRenderOptions& options) const {
    if (!messages.is_array()) throw Error(ErrorKind::InvalidArgument, "chat template: messages must be a JSON array");
    for (const auto& m : messages)
        if (!m.is_object()) throw Error(ErrorKind::InvalidArgument, "chat template: every message must be a JSON object");
    if (!options.extra.is_object() && !options.extra.is_null())
        throw Error(ErrorKind::InvalidArgument, "chat template: extra variables must be a JSON object");
    nlohmann::ordered_json vars = nlohmann::ordered_json::object();
    vars["messages"] = options.alias_reasoning_fields ? alias_reasoning(messages) : messages;
    vars["tools"] = options.tools;
    vars["documents"] = options.documents;
    vars["add_generation_prompt"] = options.add_generation_prompt;
    if (options.extra.is_object())
        for (auto it = options.extra.begin(); it != options.extra.end(); ++it) vars[it.key()] = it.value();
    return render(vars, options.limits, options.now);
}

}  // namespace llcuda
