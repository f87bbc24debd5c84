// Engine results as OpenAI response objects: whole completions, streamed chunks, logprobs, usage.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "llcuda/engine.h"
#include "openai_request.h"
#include "tool_calls.h"

namespace llcuda::server {

struct ResponseIds {
    std::string id;     // "chatcmpl-..." or "cmpl-..."
    std::string model;
    int64_t created = 0;
};

const char* finish_reason_text(FinishReason reason);
// Chat: {"content": [...]}; completions: {"tokens", "token_logprobs", "top_logprobs", "text_offset"}.
nlohmann::json logprobs_json(const InferenceEngine& engine, const std::vector<TokenLogprob>& lps, uint32_t top,
                             bool chat, size_t text_offset = 0);
// The serialized text of a JSON value, with any invalid UTF-8 (a token's partial bytes) replaced.
std::string dump(const nlohmann::json& j);

// usage: prompt tokens once per prompt (the most cached of its choices), completion tokens of all.
nlohmann::json usage_json(const CompletionRequest& r, const std::vector<InferenceResult>& results);

nlohmann::json completion_json(const InferenceEngine& engine, const CompletionRequest& r, const ResponseIds& ids,
                               const std::vector<InferenceResult>& results);
// OpenAI's tool_calls array (streamed deltas carry an index per call).
nlohmann::json tool_calls_json(const ParsedReply& reply, bool with_index);
nlohmann::json chunk_json(const CompletionRequest& r, const ResponseIds& ids, nlohmann::json choice);

}  // namespace llcuda::server
