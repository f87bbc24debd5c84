// The sampler's stages as free functions, each written to leave the same candidates, logits and
// probabilities as the llama.cpp sampler of the same name (llama-sampler.cpp, common/sampling.cpp
// for the order and defaults: min_keep = 0). Sampler runs them through run_chain(); the tests check
// each one, and the chain, against llama.cpp's output (tests/golden/sampler/).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "llcuda/sampling.h"

namespace llcuda::sampling {

struct Candidate {
    int32_t id;
    float logit;
    float p;  // meaningful only after a stage that computes a softmax (typical, top_p, softmax)
};

// Repetition, frequency and presence penalties on a full row (logits[id]), counting each token's
// occurrences among the last params.penalty_last_n tokens of `history` (all of them when -1; ids
// outside the row are ignored). A seen token's logit is divided by repetition_penalty when positive
// and multiplied by it otherwise, then lowered by count * frequency_penalty + presence_penalty.
// Does nothing when penalty_last_n is 0 or all three penalties are neutral.
void penalties(std::span<float> logits, std::span<const int32_t> history, const SamplingParams& params);

// The pieces of penalties(), for rows known only at a few tokens (Sampler::sample_candidates):
// whether the penalties do anything; the distinct ids in [0, n_vocab) of the penalty window with
// their counts, by ascending id; and one token's penalized logit (the exact arithmetic penalties()
// applies, so both paths give the same bits).
bool penalties_active(const SamplingParams& params);
std::vector<std::pair<int32_t, int>> penalty_counts(std::span<const int32_t> history, const SamplingParams& params,
                                                    size_t n_vocab);
float penalized_logit(float logit, int count, const SamplingParams& params);

// Keeps the k highest logits, sorted by logit; k <= 0 or k >= size keeps all.
void top_k(std::vector<Candidate>& c, int32_t k);

// Sorts by logit (descending, equal logits by lower id) and keeps the first k: what top_k(k) leaves
// when 0 < k < size, and the same on any subset that contains those k.
void best_k_sorted(std::vector<Candidate>& c, size_t k);

// Locally typical sampling: sets p to the softmax over `c`, then keeps the tokens whose surprise
// -log p is closest to the entropy until their probability sum exceeds `p_keep`. p is not
// renormalized over the survivors. p_keep >= 1 does nothing.
void typical(std::vector<Candidate>& c, float p_keep);

// Nucleus: sets p to the softmax over `c`, sorts by logit and keeps the shortest prefix whose
// probability sum reaches `p_keep`. p is not renormalized. p_keep >= 1 does nothing.
void top_p(std::vector<Candidate>& c, float p_keep);

// Keeps tokens with p >= p_min * p_max, tested on logits: logit >= max_logit + log(p_min).
// p_min <= 0 does nothing.
void min_p(std::vector<Candidate>& c, float p_min);

// Divides logits by t; t <= 0 keeps only the highest logit (the first of equal ones).
void temperature(std::vector<Candidate>& c, float t);

// Sets p to the softmax of the logits over `c` (no reordering).
void softmax(std::vector<Candidate>& c);

// Index into `c` that a uniform number u in [0, 1) selects: the first whose cumulative p exceeds u
// (the last candidate if rounding leaves u beyond the sum).
size_t draw(std::span<const Candidate> c, double u);

enum class Stage { Penalties, TopK, Typical, TopP, MinP, Temperature };
const char* stage_name(Stage s);

// Called after each stage with the candidates it left (after Penalties: the whole vocabulary).
using StageObserver = std::function<void(Stage, std::span<const Candidate>)>;

// penalties → top-k → typical → top-p → min-p → temperature → softmax, as llama.cpp's default chain.
// `logits` is the model's row (index = token id), `history` the tokens seen so far. Returns the
// candidates with p the distribution to draw from. Does not validate `params` (Sampler does).
std::vector<Candidate> run_chain(std::span<const float> logits, std::span<const int32_t> history,
                                 const SamplingParams& params, const StageObserver& observe = {});

// run_chain over only the tokens whose bit is set in `allowed` (bit t of word t / 64; a grammar's
// mask): the same as run_chain on a row whose other logits are -inf, but -inf never reaches a stage
// (typical sampling's entropy would turn 0 * log 0 into NaN). Empty when no bit is set.
std::vector<Candidate> run_chain_masked(std::span<const float> logits, std::span<const int32_t> history,
                                        const SamplingParams& params, std::span<const uint64_t> allowed,
                                        const StageObserver& observe = {});

// The candidates of the tokens `allowed` sets, with their logits after the penalties (what
// run_chain_masked starts from; the greedy path takes its best).
std::vector<Candidate> masked_candidates(std::span<const float> logits, std::span<const int32_t> history,
                                         const SamplingParams& params, std::span<const uint64_t> allowed);

// The chain after top-k: typical → top-p → min-p → temperature → softmax on what top-k left.
std::vector<Candidate> run_chain_after_top_k(std::vector<Candidate> c, const SamplingParams& params,
                                             const StageObserver& observe = {});

}  // namespace llcuda::sampling
