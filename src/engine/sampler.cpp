#include "engine/sampler.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cmath>
#include <numeric>
#include <string>
#include <unordered_map>

#include <fmt/format.h>

#include "engine/sampler_stages.h"
#include "grammar/automaton.h"
#include "llcuda/error.h"
#include "llcuda/grammar.h"

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
    if (!p.grammar.empty() && !p.json_schema.empty()) {
        throw Error(ErrorKind::InvalidArgument, "give either a grammar or a JSON schema, not both");
    }
    if (is_constrained(p) && p.ignore_eos) {
        throw Error(ErrorKind::InvalidArgument,
                    "ignore_eos cannot be combined with a grammar or JSON schema (the grammar decides where the text ends)");
    }
    if (!p.grammar.empty()) check_grammar(p.grammar);
    if (!p.json_schema.empty()) json_schema_to_grammar(p.json_schema);
}

bool is_constrained(const SamplingParams& p) { return !p.grammar.empty() || !p.json_schema.empty(); }

Sampler::Sampler(const SamplingParams& params, uint32_t n_vocab, std::shared_ptr<const grammar::TokenVocabulary> vocab)
    : params_(params), n_vocab_(n_vocab) {
    validate(params);
    rng_.seed(params.seed ? *params.seed : std::random_device{}());
    if (is_constrained(params)) {
        if (!vocab || vocab->n_rows != n_vocab) {
            throw Error(ErrorKind::Internal, "a constrained sampler needs the vocabulary of the model's logits rows");
        }
        const std::string gbnf = params.grammar.empty() ? json_schema_to_grammar(params.json_schema) : params.grammar;
        auto compiled = grammar::shared_grammar(gbnf, vocab);
        matcher_ = std::make_unique<grammar::Matcher>(std::move(vocab), std::move(compiled));
    }
}

namespace {

// LLCUDA_TRACE_SAMPLING=1 prints every draw (the uniform number and the survivors with their
// logits and probabilities) and every grammar mask's time to stderr: the tool for telling two
// engines' samplers apart, and for seeing which masks a decode step waits for.
bool trace_sampling() {
    static const bool on = [] {
        const char* v = std::getenv("LLCUDA_TRACE_SAMPLING");
        return v && *v && std::string(v) != "0";
    }();
    return on;
}

}  // namespace

const grammar::Mask& Sampler::step_mask() {
    if (!mask_ready_) {
        const bool trace = trace_sampling();
        const auto t0 = trace ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
        mask_ = matcher_->allowed();  // a copy into the capacity of the last one
        n_allowed_ = count_allowed(mask_, n_vocab_);
        mask_ready_ = true;
        if (trace) {
            const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            std::fprintf(stderr, "[mask] %.3f ms, %u allowed\n", ms, n_allowed_);
        }
    }
    return mask_;
}

void Sampler::prepare_mask() {
    if (matcher_) (void)step_mask();
}

std::span<const uint64_t> Sampler::allowed_mask() {
    if (!matcher_) return {};
    return step_mask();
}

void Sampler::accept(int32_t token) {
    history_.push_back(token);
    if (matcher_ && sampled_) matcher_->accept(token);
    sampled_ = false;
    mask_ready_ = false;
}

namespace {

// The token the chain's survivors give: the best one when greedy (typical sampling may have dropped
// the argmax; the chain kept one), else a draw with one uniform number from the sampler's generator.
int32_t choose(const std::vector<sampling::Candidate>& c, const SamplingParams& p, std::mt19937_64& rng) {
    if (p.temperature <= 0.0f) return c.front().id;
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    const double u = uniform(rng);
    const size_t i = sampling::draw(c, u);
    if (trace_sampling()) {
        std::string line = fmt::format("[sampling] u={:.6f} chose {} of {}:", u, c[i].id, c.size());
        for (size_t k = 0; k < c.size() && k < 12; ++k) line += fmt::format(" {}({:.4f},{:.4f})", c[k].id, c[k].logit, c[k].p);
        std::fprintf(stderr, "%s\n", line.c_str());
    }
    return c[i].id;
}

}  // namespace

int32_t Sampler::sample(std::span<const float> logits_in, TokenLogprob* logprob) {
    if (logits_in.size() != n_vocab_) throw Error(ErrorKind::Internal, "logits row has the wrong size");

    int32_t chosen;
    if (matcher_) {
        const auto& allowed = step_mask();
        if (greedy()) {
            const auto c = sampling::masked_candidates(logits_in, history_, params_, allowed);
            chosen = std::max_element(c.begin(), c.end(), [](const sampling::Candidate& a, const sampling::Candidate& b) {
                         return a.logit < b.logit || (a.logit == b.logit && a.id > b.id);
                     })->id;
        } else {
            chosen = choose(sampling::run_chain_masked(logits_in, history_, params_, allowed), params_, rng_);
        }
    } else if (greedy()) {
        // Greedy: top-k, top-p and min-p always keep the most likely token, so the chain would
        // end on the argmax of the penalized logits; skip sorting the vocabulary.
        std::vector<float> logits(logits_in.begin(), logits_in.end());  // [n_vocab]
        sampling::penalties(logits, history_, params_);
        chosen = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    } else {
        chosen = choose(sampling::run_chain(logits_in, history_, params_), params_, rng_);
    }

    if (logprob && params_.logprobs > 0) {
        const float log_z = log_sum_exp(logits_in);
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
    sampled_ = true;
    return chosen;
}

bool Sampler::argmax_suffices() const {
    return !matcher_ && greedy() && !sampling::penalties_active(params_) && params_.logprobs == 0;
}

// top-k's k (1 when greedy: the argmax is the first of any top-k) plus the penalized tokens that may
// be chosen, or more when logprobs asks for more; see compute_backend.h for why that is enough.
// n_choices: the tokens that compete (n_vocab, or the grammar's allowed ones). When top-k keeps all
// of them, a constrained row needs every allowed token (the chain then sees them in id order); an
// unconstrained one needs the whole row. 0: not possible.
uint32_t Sampler::top_needed(size_t n_extra, uint32_t n_choices) const {
    uint64_t k;
    if (greedy()) {
        k = 1;
    } else if (params_.top_k > 0 && uint32_t(params_.top_k) < n_choices) {
        k = uint64_t(params_.top_k);
    } else if (matcher_) {
        k = n_choices;
    } else {
        return 0;  // top-k keeps the row
    }
    const uint64_t n = std::min<uint64_t>(std::max<uint64_t>(k + n_extra, params_.logprobs), n_choices);
    return n <= kMaxTopCandidates ? uint32_t(n) : 0;
}

bool Sampler::candidate_request(std::vector<int32_t>& extra, uint32_t& n_top) {
    extra.clear();
    n_top = 0;
    // The logprobs' top alternatives come from the unmasked row, which masked candidates do not hold.
    if (matcher_ && params_.logprobs > 0) return false;
    const std::span<const uint64_t> allowed = allowed_mask();
    for (const auto& [id, count] : sampling::penalty_counts(history_, params_, n_vocab_)) {
        if (token_allowed(allowed, id)) extra.push_back(id);  // a disallowed token is no candidate
    }
    n_top = top_needed(extra.size(), matcher_ ? n_allowed_ : n_vocab_);
    if (n_top == 0) {
        extra.clear();
        return false;
    }
    return true;
}

int32_t Sampler::sample_candidates(const RowCandidates& rc, TokenLogprob* logprob) {
    if (matcher_ && params_.logprobs > 0) {
        throw Error(ErrorKind::Internal, "a constrained sampler that reports log-probabilities needs whole logits rows");
    }
    const std::span<const uint64_t> allowed = allowed_mask();
    const uint32_t n_choices = matcher_ ? n_allowed_ : n_vocab_;
    const auto counts = sampling::penalty_counts(history_, params_, n_vocab_);
    const size_t n_extra = size_t(std::count_if(counts.begin(), counts.end(),
                                                [&](const auto& idc) { return token_allowed(allowed, idc.first); }));
    const uint32_t n_top = top_needed(n_extra, n_choices);
    if (n_top == 0 || rc.top.size() < n_top) {
        throw Error(ErrorKind::Internal, fmt::format("sampling needs the {} highest logits but the candidates hold {}",
                                                     n_top, rc.top.size()));
    }
    // The candidates, deduplicated (an extra id may be among the top), with raw logits.
    std::vector<sampling::Candidate> c;  // [<= top + extra]
    std::unordered_map<int32_t, size_t> at;
    for (const auto& list : {std::span<const TokenLogit>(rc.top), std::span<const TokenLogit>(rc.extra)}) {
        for (const TokenLogit& t : list) {
            if (t.id < 0 || uint32_t(t.id) >= n_vocab_) {
                throw Error(ErrorKind::Internal, fmt::format("candidate token id {} is outside the vocabulary", t.id));
            }
            if (!token_allowed(allowed, t.id)) {
                throw Error(ErrorKind::Internal, fmt::format("candidate token {} is not allowed by the grammar", t.id));
            }
            if (at.emplace(t.id, c.size()).second) c.push_back({t.id, t.logit, 0.0f});
        }
    }
    const std::vector<sampling::Candidate> raw = c;  // for the log-probabilities
    for (const auto& [id, count] : counts) {
        if (!token_allowed(allowed, id)) continue;
        const auto it = at.find(id);
        if (it == at.end()) {
            throw Error(ErrorKind::Internal, fmt::format("the candidates lack penalized token {}", id));
        }
        c[it->second].logit = sampling::penalized_logit(c[it->second].logit, count, params_);
    }

    int32_t chosen;
    if (greedy()) {
        sampling::best_k_sorted(c, 1);  // the argmax of the penalized (allowed) row lies among the candidates
        chosen = c.front().id;
    } else {
        if (params_.top_k > 0 && uint32_t(params_.top_k) < n_choices) {
            sampling::best_k_sorted(c, size_t(params_.top_k));  // = top_k on the whole penalized (allowed) row
        } else {
            // Constrained, top-k keeps every allowed token: run_chain_masked leaves them in id order,
            // which the draw sees when no later stage sorts them.
            if (c.size() != n_choices) {
                throw Error(ErrorKind::Internal, fmt::format("sampling needs all {} allowed tokens but the candidates hold {}",
                                                             n_choices, c.size()));
            }
            std::sort(c.begin(), c.end(), [](const sampling::Candidate& a, const sampling::Candidate& b) { return a.id < b.id; });
        }
        chosen = choose(sampling::run_chain_after_top_k(std::move(c), params_), params_, rng_);
    }

    if (logprob && params_.logprobs > 0) {
        const float log_z = rc.log_sum_exp;
        logprob->token = chosen;
        logprob->logprob = raw[at.at(chosen)].logit - log_z;
        const size_t n = std::min<size_t>(params_.logprobs, n_vocab_);  // <= n_top: rc.top's first n
        logprob->top.clear();
        for (size_t i = 0; i < n; ++i) logprob->top.emplace_back(rc.top[i].id, rc.top[i].logit - log_z);
    }
    sampled_ = true;
    return chosen;
}

}  // namespace llcuda
