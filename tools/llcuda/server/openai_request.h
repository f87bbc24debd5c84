// OpenAI request bodies (/v1/chat/completions, /v1/completions) mapped onto engine calls: every
// field checked for type and range (ApiError 400 naming it), unknown fields ignored as
// OpenAI-compatible servers do.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "llcuda/engine.h"
#include "llcuda/sampling.h"

namespace llcuda::server {

struct Limits {
    uint32_t n_ctx = 0;         // the engine's context: prompt + max_tokens must fit
    uint32_t max_n = 8;         // choices per request
    uint32_t max_prompts = 16;  // prompts per /v1/completions request
};

struct CompletionRequest {
    bool chat = false;
    std::vector<std::vector<int32_t>> prompts;  // one per prompt (chat: one)
    SamplingParams params;                      // seed of choice i is seed + i
    bool max_tokens_given = false;
    uint32_t n = 1;
    bool stream = false;
    bool include_usage = false;
    bool logprobs = false;
    uint32_t top_logprobs = 0;
    bool tools = false;  // tools were given (and tool_choice is not "none"): parse tool calls
};

// Throws ApiError (400) for a body that is not an object or a field of the wrong type or range.
CompletionRequest parse_completion_request(const nlohmann::json& body, bool chat, const InferenceEngine& engine,
                                           const Limits& limits);

}  // namespace llcuda::server
