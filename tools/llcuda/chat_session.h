// The interactive conversation of `llcuda chat` and `llcuda run -cnv`: one user message per line of
// standard input, each reply streamed as it is generated. Lines starting with "/" are commands
// (/help lists them) and never reach the model; empty lines are ignored; end of input, /exit or
// Ctrl-C at the prompt ends the session; Ctrl-C during a reply stops the reply only. When the
// conversation outgrows the context, the oldest exchanges are dropped (the system message is kept).
#pragma once

#include <string>

#include "llcuda/engine.h"

namespace llcuda::cli {

struct ChatSessionOptions {
    std::string system;         // system message, "" for none
    std::string first_message;  // sent before reading standard input (run -cnv -p TEXT), "" for none
};

// Returns the exit code: 0 (a failed turn is reported and the session goes on).
int run_chat_session(InferenceEngine& engine, uint32_t n_ctx, const SamplingParams& params,
                     const ChatSessionOptions& options);

}  // namespace llcuda::cli
