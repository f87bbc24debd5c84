// Chooses the next token from a row of logits, in llama.cpp's order:
// penalties → top-k → typical → top-p → min-p → temperature → draw (or argmax when greedy).
// The stages are the free functions of engine/sampler_stages.h.
//
// Two entry points pick the same token for the same seed and history: sample() reads the whole
// row; sample_candidates() reads only the candidates a backend pre-selected where the logits live
// (ComputeBackend::top_candidates, which explains why that set suffices), so that on the GPU a
// 128k-262k float row need not cross to the host.
//
// With a grammar or JSON schema (SamplingParams::grammar / json_schema) the sampler holds a
// grammar::Matcher: every token the grammar does not allow is removed before the first stage, so
// the chain runs on the allowed tokens alone with every other setting unchanged; end-of-generation
// is allowed exactly when the grammar is complete (and is the only choice when nothing else may
// follow). Such a sampler never reduces to argmax_suffices; it asks for candidates among the allowed
// tokens (the mask travels in the CandidateRequest, so the backend selects where the logits live),
// and for whole rows only when it reports log-probabilities (their top alternatives are those of the
// unmasked row) or when top-k would keep more than kMaxTopCandidates allowed tokens.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <vector>

#include "backend/compute_backend.h"
#include "grammar/matcher.h"
#include "llcuda/engine.h"
#include "llcuda/sampling.h"

namespace llcuda {

// True when params asks for constrained output (a grammar or a JSON schema).
bool is_constrained(const SamplingParams& params);

class Sampler {
public:
    // `vocab` (the model's vocabulary as grammar::TokenVocabulary sees it) is required when
    // is_constrained(params), ignored otherwise. Throws InvalidArgument for a bad grammar or schema
    // (with its line and column), Unsupported for a schema keyword outside the supported subset.
    Sampler(const SamplingParams& params, uint32_t n_vocab,
            std::shared_ptr<const grammar::TokenVocabulary> vocab = nullptr);

    // Tokens seen so far (prompt and generated), for the penalties. The first accept() after each
    // sample() or sample_candidates() is the generated token: it also advances the grammar (InvalidArgument when the
    // grammar does not allow it). Tokens accepted before any sample() are the prompt.
    void accept(int32_t token);

    // Constrained sampling: the grammar's matcher (null when unconstrained).
    grammar::Matcher* matcher() { return matcher_.get(); }
    // Computes (or finds in the cache) the grammar's allowed tokens for the next sample(), so that
    // the engine can do it on the CPU while the GPU runs the forward pass. No-op when unconstrained.
    void prepare_mask();
    // The allowed tokens for the next token (a CandidateRequest mask: bit t of word t / 64); empty
    // when unconstrained. Valid until the next accept().
    std::span<const uint64_t> allowed_mask();
    // Picks a token; when `logprob` is given and params.logprobs > 0, fills it with the chosen
    // token's log-probability and the most likely alternatives under the model's distribution
    // (log-softmax of the raw logits, before penalties, filters and the grammar).
    int32_t sample(std::span<const float> logits, TokenLogprob* logprob = nullptr);

    // True when the choice is simply the argmax of the raw logits (greedy, no active penalties,
    // no logprobs, no typical filter, no grammar), so a backend's argmax() suffices.
    bool argmax_suffices() const;
    // What sample_candidates needs for the next token: the n_top highest raw logits (among the
    // allowed_mask() tokens when constrained; pass that mask in the request) and the raw logits of
    // `extra` (the penalty window's distinct ids that may be chosen, ascending). False when the
    // candidates cannot decide (top-k disabled or >= n_vocab on an unconstrained sampled row, more
    // than kMaxTopCandidates needed, or logprobs with a grammar): then sample() needs the whole row.
    bool candidate_request(std::vector<int32_t>& extra, uint32_t& n_top);
    // Picks the token sample() would pick on the whole row, from candidates answering
    // candidate_request() (Internal error when they do not cover it, or hold a token the grammar
    // does not allow), with the same logprobs (the chosen token's and the top ones, from the raw
    // logits and c.log_sum_exp) and the same use of the random generator.
    int32_t sample_candidates(const RowCandidates& c, TokenLogprob* logprob = nullptr);

private:
    bool greedy() const { return params_.temperature <= 0.0f && params_.typical_p >= 1.0f; }
    uint32_t top_needed(size_t n_extra, uint32_t n_choices) const;
    const grammar::Mask& step_mask();

    SamplingParams params_;
    uint32_t n_vocab_;
    std::vector<int32_t> history_;
    std::mt19937_64 rng_;
    std::unique_ptr<grammar::Matcher> matcher_;
    // The matcher's mask for the next token, copied once per step (19 KB for 151k tokens): the
    // matcher's own reference lasts only until its next call, and a request holds it across the
    // backend's top_candidates. Valid while mask_ready_ (reset by accept()).
    grammar::Mask mask_;
    uint32_t n_allowed_ = 0;  // bits set in mask_
    bool mask_ready_ = false;
    bool sampled_ = false;  // sample() or sample_candidates() ran since the last accept()
};

}  // namespace llcuda
