// How llcuda chats with a model: which chat template renders the conversation when the GGUF carries
// none, and which tokens end a reply. The engine uses the same two functions, so `llcuda template`
// shows exactly what `llcuda chat` will do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "llcuda/gguf.h"
#include "llcuda/tokenizer.h"

namespace llcuda {

// llcuda's built-in template for an architecture ("gemma3", ...), for GGUFs that lack
// tokenizer.chat_template; nullopt when the family has none. Checked against the family's official
// template on plain conversations.
std::optional<std::string> builtin_chat_template(const std::string& architecture);

// The token ids that end a generation: those the GGUF names (eos, eot, eom) plus the special
// end-of-turn tokens of the supported chat formats. `gguf` may be null (a tokenizer.json has no
// such keys; its EOS id is used instead).
std::vector<int32_t> end_of_generation_ids(const GgufContents* gguf, const Tokenizer& tokenizer);

}  // namespace llcuda
