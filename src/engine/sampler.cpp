#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

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

void Sampler::apply_penalties(std::vector<float>& logits) const {
    const bool any = params_.repetition_penalty != 1.0f || params_.presence_penalty != 0.0f ||
                     params_.frequency_penalty != 0.0f;
    if (!any || params_.penalty_last_n == 0) return;
    const size_t window = params_.penalty_last_n < 0 ? history_.size()
                                                      : std::min<size_t>(history_.size(), size_t(params_.penalty_last_n));
    std::unordered_map<int32_t, int> counts;
    for (size_t i = history_.size() - window; i < history_.size(); ++i) ++counts[history_[i]];
    for (const auto& [id, count] : counts) {
        if (id < 0 || uint32_t(id) >= n_vocab_) continue;
        float& l = logits[id];
        l = l > 0 ? l / params_.repetition_penalty : l * params_.repetition_penalty;
        l -= float(count) * params_.frequency_penalty + params_.presence_penalty;
    }
}

void Sampler::softmax(std::vector<Candidate>& c) {
    const float max = std::max_element(c.begin(), c.end(), [](auto& a, auto& b) { return a.logit < b.logit; })->logit;
    double sum = 0;
    for (auto& x : c) sum += (x.p = std::exp(x.logit - max));
    for (auto& x : c) x.p = float(x.p / sum);
}

int32_t Sampler::sample(std::span<const float> logits_in, TokenLogprob* logprob) {
    if (logits_in.size() != n_vocab_) throw Error(ErrorKind::Internal, "logits row has the wrong size");
    std::vector<float> logits(logits_in.begin(), logits_in.end());
    apply_penalties(logits);

    int32_t chosen;
    if (params_.temperature <= 0.0f) {
        chosen = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    } else {
        std::vector<Candidate> c(n_vocab_);
        for (uint32_t i = 0; i < n_vocab_; ++i) c[i] = {int32_t(i), logits[i], 0.0f};
        auto by_logit = [](const Candidate& a, const Candidate& b) {
            return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
        };
        if (params_.top_k > 0 && uint32_t(params_.top_k) < c.size()) {
            std::partial_sort(c.begin(), c.begin() + params_.top_k, c.end(), by_logit);
            c.resize(params_.top_k);
        } else {
            std::sort(c.begin(), c.end(), by_logit);
        }
        softmax(c);
        if (params_.typical_p < 1.0f) {
            double entropy = 0;
            for (const auto& x : c) entropy -= x.p > 0 ? x.p * std::log(x.p) : 0.0;
            std::vector<size_t> order(c.size());
            std::iota(order.begin(), order.end(), 0);
            auto surprise_gap = [&](size_t i) { return std::abs(-std::log(c[i].p) - entropy); };
            std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return surprise_gap(a) < surprise_gap(b); });
            std::vector<Candidate> kept;
            double cum = 0;
            for (size_t i : order) {
                kept.push_back(c[i]);
                cum += c[i].p;
                if (cum >= params_.typical_p) break;
            }
            std::sort(kept.begin(), kept.end(), by_logit);
            c = std::move(kept);
            softmax(c);
        }
        if (params_.top_p < 1.0f) {
            double cum = 0;
            size_t keep = 0;
            while (keep < c.size()) {
                cum += c[keep++].p;
                if (cum >= params_.top_p) break;
            }
            c.resize(keep);
            softmax(c);
        }
        if (params_.min_p > 0.0f) {
            const float threshold = c.front().p * params_.min_p;
            size_t keep = 1;
            while (keep < c.size() && c[keep].p >= threshold) ++keep;
            c.resize(keep);
        }
        for (auto& x : c) x.logit /= params_.temperature;
        softmax(c);
        std::uniform_real_distribution<double> uniform(0.0, 1.0);
        double r = uniform(rng_), cum = 0;
        chosen = c.back().id;
        for (const auto& x : c) {
            cum += x.p;
            if (r < cum) {
                chosen = x.id;
                break;
            }
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
