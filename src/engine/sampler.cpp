#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "engine/sampler_stages.h"
#include "llcuda/error.h"

namespace llcuda {

void validate(const SamplingParams& p) {
    auto bad = [](const char* what, auto value) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("sampling parameter {} = {} is out of range", what, value));
    };
    if (!std::isfinite(p.temperature) || p.temperature < 0) bad("temperature", p.temperature);
    if (!(p.top_p > 0 && p.top_p <= 1)) bad("top_p", p.top_p);
    if (!(p.min_p >= 0 && p.min_p <= 1)) bad("min_p", p.min_p);
    if (!(p.typical_p > 0 && p.typical_p <= 1)) bad("typical_p", p.typical_p);
    if (!(p.repetition_penalty > 0) || !std::isfinite(p.repetition_penalty)) bad("repetition_penalty", p.repetition_penalty);
    if (!std::isfinite(p.presence_penalty)) bad("presence_penalty", p.presence_penalty);
    if (!std::isfinite(p.frequency_penalty)) bad("frequency_penalty", p.frequency_penalty);
    if (p.penalty_last_n < -1) bad("penalty_last_n", p.penalty_last_n);
    if (p.logprobs > 20) bad("logprobs", p.logprobs);
    for (const auto& s : p.stop) {
        if (s.empty()) throw Error(ErrorKind::InvalidArgument, "stop strings must not be empty");
    }
}

Sampler::Sampler(const SamplingParams& params, uint32_t n_vocab) : params_(params), n_vocab_(n_vocab) {
    validate(params);
    rng_.seed(params.seed ? *params.seed : std::random_device{}());
}

void Sampler::accept(int32_t token) { history_.push_back(token); }

int32_t Sampler::sample(std::span<const float> logits_in, TokenLogprob* logprob) {
    if (logits_in.size() != n_vocab_) throw Error(ErrorKind::Internal, "logits row has the wrong size");

    int32_t chosen;
    if (params_.temperature <= 0.0f && params_.typical_p >= 1.0f) {
        // Greedy: top-k, top-p and min-p always keep the most likely token, so the chain would
        // end on the argmax of the penalized logits; skip sorting the vocabulary.
        std::vector<float> logits(logits_in.begin(), logits_in.end());  // [n_vocab]
        sampling::penalties(logits, history_, params_);
        chosen = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    } else {
        const auto c = sampling::run_chain(logits_in, history_, params_);
        if (params_.temperature <= 0.0f) {
            chosen = c.front().id;  // typical sampling may have dropped the argmax; the chain kept one
        } else {
            std::uniform_real_distribution<double> uniform(0.0, 1.0);
            chosen = c[sampling::draw(c, uniform(rng_))].id;
        }
    }

    if (logprob && params_.logprobs > 0) {
        const float max = *std::max_element(logits_in.begin(), logits_in.end());
        double sum = 0;
        for (float l : logits_in) sum += std::exp(double(l) - max);
        const float log_z = max + float(std::log(sum));
        logprob->token = chosen;
        logprob->logprob = logits_in[chosen] - log_z;
        std::vector<int32_t> ids(n_vocab_);
        std::iota(ids.begin(), ids.end(), 0);
        const size_t n_top = std::min<size_t>(params_.logprobs, n_vocab_);
        std::partial_sort(ids.begin(), ids.begin() + n_top, ids.end(),
                          [&](int32_t a, int32_t b) { return logits_in[a] > logits_in[b] || (logits_in[a] == logits_in[b] && a < b); });
        logprob->top.clear();
        for (size_t i = 0; i < n_top; ++i) logprob->top.emplace_back(ids[i], logits_in[ids[i]] - log_z);
    }
    return chosen;
}

}  // namespace llcuda
