// A chat reply streamed as it is generated, through the engine's public API: the conversation is
// rendered with the model's template and generated with infer_stream, fed exactly the tokens
// engine.chat() would feed (the same reply, token for token).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "llcuda/engine.h"

namespace llcuda::cli {

struct ChatPrompt {
    std::string text;       // what to pass to infer_stream
    size_t n_tokens = 0;    // the tokens engine.chat() would feed
    bool streamable = true; // false: infer_stream cannot be given the same tokens; use engine.chat()
};

// engine.chat() adds no second BOS when the template writes one; infer_stream always tokenizes with
// the tokenizer's BOS, so the template's BOS text is taken off the front instead.
ChatPrompt render_chat_prompt(const InferenceEngine& engine, const std::vector<ChatMessage>& messages);

InferenceResult chat_streamed(InferenceEngine& engine, const std::vector<ChatMessage>& messages,
                              const SamplingParams& params, const StreamCallback& callback);

}  // namespace llcuda::cli
