// Chooses the next token from a row of logits, in llama.cpp's order:
// penalties → top-k → typical → top-p → min-p → temperature → draw (or argmax when greedy).
// The stages are the free functions of engine/sampler_stages.h.
//
// Two entry points pick the same token for the same seed and history: sample() reads the whole
// row; sample_candidates() reads only the candidates a backend pre-selected where the logits live
// (ComputeBackend::top_candidates, which explains why that set suffices), so that on the GPU a
// 128k-262k float row need not cross to the host.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "backend/compute_backend.h"
#include "llcuda/engine.h"
#include "llcuda/sampling.h"

namespace llcuda {

class Sampler {
public:
    Sampler(const SamplingParams& params, uint32_t n_vocab);

    // Tokens seen so far (prompt and generated), for the penalties.
    void accept(int32_t token);
    // Picks a token; when `logprob` is given and params.logprobs > 0, fills it with the chosen
    // token's log-probability and the most likely alternatives under the model's distribution
    // (log-softmax of the raw logits, before penalties and filters).
    int32_t sample(std::span<const float> logits, TokenLogprob* logprob = nullptr);

    // True when the choice is simply the argmax of the raw logits (greedy, no active penalties,
    // no logprobs, no typical filter), so a backend's argmax() suffices.
    bool argmax_suffices() const;
    // What sample_candidates needs for the next token: the n_top highest raw logits and the raw
    // logits of `extra` (the penalty window's distinct ids, ascending). False when the candidates
    // cannot decide (top-k disabled or >= n_vocab on a sampled row, or more than
    // kMaxTopCandidates needed): then sample() needs the whole row.
    bool candidate_request(std::vector<int32_t>& extra, uint32_t& n_top) const;
    // Picks the token sample() would pick on the whole row, from candidates answering
    // candidate_request() (Internal error when they do not cover it), with the same logprobs
    // (the chosen token's and the top ones, from the raw logits and c.log_sum_exp).
    int32_t sample_candidates(const RowCandidates& c, TokenLogprob* logprob = nullptr);

private:
    bool greedy() const { return params_.temperature <= 0.0f && params_.typical_p >= 1.0f; }
    uint32_t top_needed(size_t n_extra) const;

    SamplingParams params_;
    uint32_t n_vocab_;
    std::vector<int32_t> history_;
    std::mt19937_64 rng_;
};

}  // namespace llcuda
