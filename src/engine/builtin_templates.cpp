#include "engine/builtin_templates.h"

namespace llcuda {

namespace {

// Gemma turn format: roles "user" and "model" (for assistant), each turn
// "<start_of_turn>ROLE\n...<end_of_turn>\n"; a system message is prepended to the first user turn
// followed by a blank line; BOS first; the generation prompt opens a model turn.
constexpr const char* kGemmaTemplate =
    "{{ bos_token }}"
    "{%- set ns = namespace(prefix='') -%}"
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'system' -%}"
    "{%- set ns.prefix = message['content'] | trim ~ '\n\n' -%}"
    "{%- else -%}"
    "{{ '<start_of_turn>' ~ ('model' if message['role'] == 'assistant' else message['role']) ~ '\n' }}"
    "{{ ns.prefix ~ message['content'] | trim }}"
    "{{ '<end_of_turn>\n' }}"
    "{%- set ns.prefix = '' -%}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}";

}  // namespace

std::optional<std::string> builtin_chat_template(const std::string& architecture) {
    if (architecture == "gemma3" || architecture == "gemma2" || architecture == "gemma") return kGemmaTemplate;
    return std::nullopt;
}

}  // namespace llcuda
