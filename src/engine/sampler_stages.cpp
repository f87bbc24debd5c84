#include "engine/sampler_stages.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

namespace llcuda::sampling {
namespace {

// Descending logit; equal logits by ascending id, so that every stage is deterministic.
bool by_logit(const Candidate& a, const Candidate& b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); }

void sort_by_logit(std::vector<Candidate>& c) {
    if (!std::is_sorted(c.begin(), c.end(), by_logit)) std::sort(c.begin(), c.end(), by_logit);
}

}  // namespace

bool penalties_active(const SamplingParams& params) {
    const bool neutral = params.repetition_penalty == 1.0f && params.presence_penalty == 0.0f &&
                         params.frequency_penalty == 0.0f;
    return !neutral && params.penalty_last_n != 0;
}

std::vector<std::pair<int32_t, int>> penalty_counts(std::span<const int32_t> history, const SamplingParams& params,
                                                    size_t n_vocab) {
    if (!penalties_active(params)) return {};
    const size_t window = params.penalty_last_n < 0 ? history.size()
                                                    : std::min(history.size(), size_t(params.penalty_last_n));
    std::map<int32_t, int> counts;
    for (int32_t t : history.last(window)) {
        if (t >= 0 && size_t(t) < n_vocab) ++counts[t];
    }
    return {counts.begin(), counts.end()};
}

float penalized_logit(float l, int count, const SamplingParams& params) {
    // Dividing a negative logit would raise it, so negative ones are multiplied instead.
    l = l <= 0 ? l * params.repetition_penalty : l / params.repetition_penalty;
    l -= float(count) * params.frequency_penalty + params.presence_penalty;
    return l;
}

void penalties(std::span<float> logits, std::span<const int32_t> history, const SamplingParams& params) {
    for (const auto& [id, count] : penalty_counts(history, params, logits.size())) {
        logits[size_t(id)] = penalized_logit(logits[size_t(id)], count, params);
    }
}

void top_k(std::vector<Candidate>& c, int32_t k) {
    if (k <= 0 || size_t(k) >= c.size()) return;
    std::partial_sort(c.begin(), c.begin() + k, c.end(), by_logit);
    c.resize(size_t(k));
}

void best_k_sorted(std::vector<Candidate>& c, size_t k) {
    sort_by_logit(c);
    if (c.size() > k) c.resize(k);
}

void softmax(std::vector<Candidate>& c) {
    if (c.empty()) return;
    float max = c.front().logit;
    for (const auto& x : c) max = std::max(max, x.logit);
    double sum = 0;
    for (auto& x : c) sum += (x.p = std::exp(x.logit - max));
    for (auto& x : c) x.p = float(x.p / sum);
}

void typical(std::vector<Candidate>& c, float p_keep) {
    if (p_keep >= 1.0f || c.empty()) return;
    softmax(c);
    double entropy = 0;
    for (const auto& x : c) entropy -= x.p > 0 ? double(x.p) * std::log(double(x.p)) : 0.0;
    // How far each token's surprise is from the expected surprise (the entropy).
    std::vector<double> gap(c.size());  // [c.size()]
    for (size_t i = 0; i < c.size(); ++i) gap[i] = std::abs(-std::log(double(c[i].p)) - entropy);
    std::vector<size_t> order(c.size());  // [c.size()] indices into c, most typical first
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return gap[a] < gap[b]; });
    std::vector<Candidate> kept;
    double cum = 0;
    for (size_t i : order) {
        kept.push_back(c[i]);
        cum += c[i].p;
        if (cum > p_keep) break;  // strictly greater, as llama.cpp
    }
    std::sort(kept.begin(), kept.end(), by_logit);
    c = std::move(kept);
}

void top_p(std::vector<Candidate>& c, float p_keep) {
    if (p_keep >= 1.0f || c.empty()) return;
    softmax(c);
    sort_by_logit(c);
    double cum = 0;
    size_t keep = 0;
    while (keep < c.size()) {
        cum += c[keep++].p;
        if (cum >= p_keep) break;
    }
    c.resize(keep);
}

void min_p(std::vector<Candidate>& c, float p_min) {
    if (p_min <= 0.0f || c.empty()) return;
    float max = c.front().logit;
    for (const auto& x : c) max = std::max(max, x.logit);
    // p_i >= p_min * p_max  <=>  logit_i >= max_logit + log(p_min): no softmax needed.
    const float min_logit = max + std::log(p_min);
    std::erase_if(c, [&](const Candidate& x) { return x.logit < min_logit; });
}

void temperature(std::vector<Candidate>& c, float t) {
    if (c.empty()) return;
    if (t <= 0.0f) {
        const Candidate best = *std::min_element(c.begin(), c.end(), by_logit);
        c.assign(1, best);
        return;
    }
    for (auto& x : c) x.logit /= t;
}

size_t draw(std::span<const Candidate> c, double u) {
    double cum = 0;
    for (size_t i = 0; i < c.size(); ++i) {
        cum += c[i].p;
        if (u < cum) return i;
    }
    return c.empty() ? 0 : c.size() - 1;
}

const char* stage_name(Stage s) {
    switch (s) {
        case Stage::Penalties: return "penalties";
        case Stage::TopK: return "top_k";
        case Stage::Typical: return "typical";
        case Stage::TopP: return "top_p";
        case Stage::MinP: return "min_p";
        case Stage::Temperature: return "temperature";
    }
    return "?";
}

std::vector<Candidate> run_chain(std::span<const float> logits, std::span<const int32_t> history,
                                 const SamplingParams& params, const StageObserver& observe) {
    std::vector<float> row(logits.begin(), logits.end());  // [n_vocab]
    penalties(row, history, params);
    std::vector<Candidate> c(row.size());  // [n_vocab], then only the survivors
    for (size_t i = 0; i < row.size(); ++i) c[i] = {int32_t(i), row[i], 0.0f};
    if (observe) observe(Stage::Penalties, c);
    top_k(c, params.top_k);
    if (observe) observe(Stage::TopK, c);
    return run_chain_after_top_k(std::move(c), params, observe);
}

std::vector<Candidate> masked_candidates(std::span<const float> logits, std::span<const int32_t> history,
                                         const SamplingParams& params, std::span<const uint64_t> allowed) {
    std::vector<Candidate> c;  // [allowed tokens]
    for (size_t w = 0; w < allowed.size(); ++w) {
        for (uint64_t bits = allowed[w]; bits != 0; bits &= bits - 1) {
            const size_t id = w * 64 + size_t(__builtin_ctzll(bits));
            if (id < logits.size()) c.push_back({int32_t(id), logits[id], 0.0f});
        }
    }
    // Penalties only touch seen ids: apply them to the survivors with the same arithmetic.
    const auto counts = penalty_counts(history, params, logits.size());
    if (!counts.empty()) {
        std::map<int32_t, int> count_of(counts.begin(), counts.end());
        for (Candidate& x : c) {
            if (auto it = count_of.find(x.id); it != count_of.end()) x.logit = penalized_logit(x.logit, it->second, params);
        }
    }
    return c;
}

std::vector<Candidate> run_chain_masked(std::span<const float> logits, std::span<const int32_t> history,
                                        const SamplingParams& params, std::span<const uint64_t> allowed,
                                        const StageObserver& observe) {
    std::vector<Candidate> c = masked_candidates(logits, history, params, allowed);
    if (c.empty()) return c;
    if (observe) observe(Stage::Penalties, c);
    top_k(c, params.top_k);
    if (observe) observe(Stage::TopK, c);
    return run_chain_after_top_k(std::move(c), params, observe);
}

std::vector<Candidate> run_chain_after_top_k(std::vector<Candidate> c, const SamplingParams& params,
                                             const StageObserver& observe) {
    auto seen = [&](Stage s, const std::vector<Candidate>& c) {
        if (observe) observe(s, c);
    };
    typical(c, params.typical_p);
    seen(Stage::Typical, c);
    top_p(c, params.top_p);
    seen(Stage::TopP, c);
    min_p(c, params.min_p);
    seen(Stage::MinP, c);
    temperature(c, params.temperature);
    seen(Stage::Temperature, c);
    softmax(c);
    return c;
}

}  // namespace llcuda::sampling
