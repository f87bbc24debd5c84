// Chooses the next token from a row of logits, in llama.cpp's order:
// penalties → top-k → typical → top-p → min-p → temperature → draw (or argmax when greedy).
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <unordered_map>
#include <vector>

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

private:
    struct Candidate {
        int32_t id;
        float logit;
        float p;
    };
    void apply_penalties(std::vector<float>& logits) const;
    static void softmax(std::vector<Candidate>& c);

    SamplingParams params_;
    uint32_t n_vocab_;
    std::vector<int32_t> history_;
    std::mt19937_64 rng_;
};

}  // namespace llcuda
