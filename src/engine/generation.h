// One request's generation, independent of where and when its forward passes run: the prompt and
// sampled ids, the sampler with its penalty history, streamed-text decoding and stop strings, and
// the result. The scheduler (engine/scheduler.h) packs many of these into each forward pass and
// calls sample_step on the logits rows of those that reached the end of their known tokens.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "engine/engine_state.h"
#include "engine/sampler.h"
#include "engine/stop_matcher.h"
#include "llcuda/engine.h"
#include "llcuda/sampling.h"
#include "llcuda/tokenizer.h"

namespace llcuda {

using GenClock = std::chrono::steady_clock;

struct RequestState {
    RequestState(const InferenceEngine::State& s, std::vector<int32_t> prompt, const SamplingParams& p);

    SamplingParams params;
    Sampler sampler;
    StreamDecoder decoder;
    StopMatcher stops;
    std::vector<int32_t> tokens;   // prompt, then every generated id; KV computed for [0, n_fed)
    uint32_t n_prompt = 0;
    uint32_t n_fed = 0;            // positions whose keys/values are in the KV cache
    InferenceResult result;
    bool done = false;
    GenClock::time_point t_start, t_gen;
    // Output not yet handed to the caller (the scheduler moves it out after every step).
    std::string pending_text;
    std::vector<int32_t> pending_tokens;
    std::vector<TokenLogprob> pending_logprobs;

    uint32_t to_feed() const { return uint32_t(tokens.size()) - n_fed; }
};

// Ends a request (flushing held-back text unless cancelled) and records it in the engine metrics.
void finish(InferenceEngine::State& s, RequestState& r, FinishReason reason);

// Reusable buffers of sample_step.
struct StepScratch {
    std::vector<float> logits;                 // (rows, n_vocab) when whole rows are copied
    std::vector<CandidateRequest> requests;    // one per logits row
    std::vector<std::vector<int32_t>> extras;  // each row's penalized ids (requests point at them)
    std::vector<RowCandidates> candidates;
};

// After a forward pass whose logits rows belong, in order, to `rows`: picks each row's next token
// with its own sampler, appends it (or finishes the request: end of generation, max_tokens, stop
// string, full context).
void sample_step(InferenceEngine::State& s, const std::vector<RequestState*>& rows, StepScratch& scratch);

// Runs `tokens` through a fresh sequence and calls on_row(i, logits) for every position i when
// all_rows, else once for the last position (the KV sequence is freed afterwards). The caller holds
// s.mutex.
void run_prompt(InferenceEngine::State& s, const std::vector<int32_t>& tokens, bool all_rows,
                const std::function<void(uint32_t, const float*)>& on_row);

// Throws InvalidArgument when a prompt is empty, leaves no room to generate, or has an id outside
// the vocabulary.
void check_prompt(const InferenceEngine::State& s, const std::vector<int32_t>& tokens);
void check_in_vocabulary(const InferenceEngine::State& s, const std::vector<int32_t>& tokens);

}  // namespace llcuda
