// Chat templates for models whose GGUF carries none (some Gemma-3 conversions drop
// tokenizer.chat_template). Written by us from the family's documented turn format; used only as a
// fallback, and checked against the family's official template on plain conversations.
#pragma once

#include <optional>
#include <string>

namespace llcuda {

// The built-in template for `architecture`, if there is one.
std::optional<std::string> builtin_chat_template(const std::string& architecture);

}  // namespace llcuda
