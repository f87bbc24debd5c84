// Generation of one or several requests together: every step packs the next prompt chunk of each
// request still reading its prompt and the last sampled token of each request that is generating
// into ONE batch, runs one forward pass, and samples each request's next token from its own row.
// This is the loop a continuous-batching scheduler grows from; batch_infer runs all its prompts
// through it at once, infer runs one.
#pragma once

#include <vector>

#include "engine/engine_state.h"
#include "llcuda/engine.h"
#include "llcuda/sampling.h"

namespace llcuda {

struct GenerationRequest {
    std::vector<int32_t> prompt;
    SamplingParams params;
    const StreamCallback* callback = nullptr;  // may be null
};

// Runs the requests to completion; results in request order. Throws on an invalid prompt before
// any work starts (the engine stays usable).
std::vector<InferenceResult> run_generation(InferenceEngine::State& s, const std::vector<GenerationRequest>& requests);

// Runs `tokens` through a fresh sequence and calls on_row(i, logits) for every position i when
// all_rows, else once for the last position (the KV sequence is freed afterwards).
void run_prompt(InferenceEngine::State& s, const std::vector<int32_t>& tokens, bool all_rows,
                const std::function<void(uint32_t, const float*)>& on_row);

// Throws InvalidArgument when a prompt is empty, leaves no room to generate, or has an id outside
// the vocabulary.
void check_prompt(const InferenceEngine::State& s, const std::vector<int32_t>& tokens);
void check_in_vocabulary(const InferenceEngine::State& s, const std::vector<int32_t>& tokens);

}  // namespace llcuda
