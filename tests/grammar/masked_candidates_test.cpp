// A constrained Sampler on backend-selected candidates (the grammar's mask in the CandidateRequest,
// cpu::top_candidates choosing among the allowed tokens, Sampler::sample_candidates) against the
// same Sampler on whole rows (Sampler::sample, the masked chain over the full vocabulary): the same
// token at every step for the same seed, greedy and sampled, over Qwen3's 151k vocabulary with
// masks of exactly 1, 3 and 50 allowed tokens and dense ones (thousands), random rows with and
// without ties, penalties on allowed and disallowed tokens. Runs of many steps also check that both
// paths take the same number of draws from the generator (a difference shifts every later draw).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "backend/cpu/cpu_backend.h"
#include "engine/sampler.h"
#include "grammar_test_util.h"
#include "llcuda/error.h"

namespace llcuda {
namespace {

const grammar::test::LoadedVocabulary& qwen3() {
    static const auto v = grammar::test::load_vocabulary("qwen3");
    return v;
}

std::vector<float> random_row(std::mt19937_64& rng, size_t n, bool ties) {
    std::normal_distribution<float> normal(0.0f, 3.0f);
    std::vector<float> l(n);
    for (auto& x : l) {
        x = normal(rng);
        if (ties) x = std::round(x * 2.0f) / 2.0f;  // many equal logits: "lower id first" decides
    }
    return l;
}

struct Tally {
    int steps = 0, via_candidates = 0, drawn = 0;
    std::map<uint32_t, int> allowed_sizes;  // mask size -> steps sampled on candidates with it
};

// Two samplers with the same parameters and prompt: `full` samples whole rows, `cand` candidates
// whenever it can; both take the token `full` chose, until end-of-generation or `max_steps`.
void compare_paths(const SamplingParams& p, const std::vector<int32_t>& prompt, uint64_t row_seed, int max_steps,
                   const std::string& where, Tally& t) {
    const auto& v = qwen3();
    const uint32_t n_vocab = v.vocab->n_rows;
    Sampler full(p, n_vocab, v.vocab), cand(p, n_vocab, v.vocab);
    for (int32_t tok : prompt) {
        full.accept(tok);
        cand.accept(tok);
    }
    std::mt19937_64 rng(row_seed);
    for (int step = 0; step < max_steps; ++step) {
        const std::string at = where + " step " + std::to_string(step);
        const auto row = random_row(rng, n_vocab, step % 3 == 2);
        const int32_t a = full.sample(row);
        cand.prepare_mask();
        std::vector<int32_t> extra;
        uint32_t n_top = 0;
        int32_t b;
        if (cand.candidate_request(extra, n_top)) {
            const std::span<const uint64_t> mask = cand.allowed_mask();
            const CandidateRequest req{0, n_top, extra, mask};
            std::vector<RowCandidates> out;
            cpu::top_candidates(row, n_vocab, std::span(&req, 1), out);
            b = cand.sample_candidates(out.at(0));
            ++t.via_candidates;
            ++t.allowed_sizes[count_allowed(mask, n_vocab)];
        } else {
            b = cand.sample(row);
        }
        ASSERT_EQ(a, b) << at;
        ++t.steps;
        if (p.temperature > 0) ++t.drawn;
        if (v.vocab->is_end(a)) return;
        full.accept(a);
        cand.accept(a);
    }
}

TEST(GrammarCandidates, SameTokensAsWholeRowsForEveryMaskAndSetting) {
    const auto& v = qwen3();
    // Qwen3 splits digits into single-digit tokens and never merges a letter with a digit, so
    // these grammars give masks of exactly 1 (each digit of the literal; end-of-generation alone
    // once complete), 3 (the first [0-2]) and 50 ([A-Za-x] at the start) tokens.
    const std::vector<std::pair<std::string, std::string>> grammars{
        {"literal digits", R"(root ::= "20240501")"},
        {"digits 0-2", R"(root ::= [0-2]+)"},
        {"letter digit", R"(root ::= ([A-Za-x] [0-9])+)"},
        {"lowercase words", R"(root ::= [a-z ]+)"},  // dense: every lowercase word piece
        {"schema", ""},
    };
    const std::string schema = R"({"type": "object", "properties": {"n": {"type": "integer", "minimum": 0, "maximum": 999},
        "s": {"type": "string", "maxLength": 12}, "e": {"enum": ["alpha", "beta"]}}, "required": ["n", "s", "e"]})";
    std::vector<SamplingParams> settings;
    SamplingParams p;
    p.temperature = 0;  // greedy
    settings.push_back(p);
    p = SamplingParams{};  // top-k 40, top-p 0.95, min-p 0.05, temperature 0.8
    settings.push_back(p);
    p.top_k = 0;  // top-k off: candidates only when every allowed token fits
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.temperature = 1.0f;
    settings.push_back(p);
    p.top_k = int32_t(v.vocab->n_rows) + 5;  // top-k past the vocabulary: the same
    settings.push_back(p);
    p = SamplingParams{};
    p.top_k = 1;
    settings.push_back(p);
    p = SamplingParams{};
    p.top_k = 3;
    p.min_p = 0.3f;
    p.temperature = 1.5f;
    settings.push_back(p);
    p = SamplingParams{};  // penalties that sink and raise tokens, typical sampling
    p.top_k = 60;
    p.typical_p = 0.6f;
    p.repetition_penalty = 1.3f;
    p.presence_penalty = -2.5f;
    p.frequency_penalty = 0.4f;
    p.penalty_last_n = 64;
    settings.push_back(p);
    p = SamplingParams{};  // temperature 0 but typical on: the chain, not the greedy shortcut
    p.temperature = 0;
    p.typical_p = 0.7f;
    p.top_k = 200;
    p.presence_penalty = 1.0f;
    settings.push_back(p);
    p = SamplingParams{};  // greedy with penalties: the penalized allowed tokens are extras
    p.temperature = 0;
    p.repetition_penalty = 1.5f;
    p.presence_penalty = -3.0f;
    settings.push_back(p);

    // A prompt holding tokens the grammars allow (penalized when chosen) and ones they never do
    // (token texts as stored: byte-level BPE writes a leading space as "Ġ").
    std::vector<int32_t> prompt;
    for (const char* s : {"2", "0", "1", "a", "b", "A", "x", "5", "\xC4\xA0the", "{", "Hello", "\"", "alpha"}) {
        const int32_t id = v.tokenizer->token_id(s);
        ASSERT_GE(id, 0) << s;
        prompt.push_back(id);
    }

    Tally t;
    uint64_t seed = 1;
    for (const auto& [name, gbnf] : grammars) {
        for (size_t k = 0; k < settings.size(); ++k) {
            for (int rep = 0; rep < 2; ++rep, ++seed) {
                SamplingParams sp = settings[k];
                if (gbnf.empty()) sp.json_schema = schema;
                else sp.grammar = gbnf;
                sp.seed = seed;
                compare_paths(sp, prompt, seed * 7919, 24, name + " setting " + std::to_string(k) + " seed " + std::to_string(seed), t);
                if (HasFatalFailure()) return;
            }
        }
    }
    std::printf("steps %d, via candidates %d, drawn %d; allowed-set sizes:", t.steps, t.via_candidates, t.drawn);
    for (const auto& [size, n] : t.allowed_sizes) std::printf(" %u:%d", size, n);
    std::printf("\n");
    // Every kind of mask went through the candidates, sparse and dense.
    EXPECT_GT(t.allowed_sizes[1], 20);
    EXPECT_GT(t.allowed_sizes[3], 5);
    EXPECT_GT(t.allowed_sizes[50], 5);
    const int dense = std::accumulate(t.allowed_sizes.begin(), t.allowed_sizes.end(), 0,
                                      [](int n, const auto& e) { return n + (e.first > 1000 ? e.second : 0); });
    EXPECT_GT(dense, 50);
    EXPECT_GT(t.via_candidates, t.steps * 3 / 4);  // the rest: top-k off with more than 2048 allowed
    EXPECT_GT(t.drawn, t.steps / 2);
}

TEST(GrammarCandidates, RequestCarriesTheMaskAndCountsOnlyAllowedExtras) {
    const auto& v = qwen3();
    SamplingParams p;
    p.top_k = 40;
    p.presence_penalty = 0.5f;
    p.grammar = R"(root ::= [0-2]+)";
    Sampler s(p, v.vocab->n_rows, v.vocab);
    const int32_t one = v.tokenizer->token_id("1"), seven = v.tokenizer->token_id("7");
    s.accept(one);
    s.accept(seven);  // penalized but never allowed here: no candidate
    std::vector<int32_t> extra;
    uint32_t n_top = 0;
    ASSERT_TRUE(s.candidate_request(extra, n_top));
    EXPECT_EQ(extra, std::vector<int32_t>{one});
    EXPECT_EQ(n_top, 3u);  // top-k 40 + 1 extra, but only "0", "1", "2" are allowed
    EXPECT_EQ(count_allowed(s.allowed_mask(), v.vocab->n_rows), 3u);

    // A greedy constrained row never reduces to argmax.
    p.temperature = 0;
    p.presence_penalty = 0;
    EXPECT_FALSE(Sampler(p, v.vocab->n_rows, v.vocab).argmax_suffices());
    Sampler g(p, v.vocab->n_rows, v.vocab);
    ASSERT_TRUE(g.candidate_request(extra, n_top));
    EXPECT_EQ(n_top, 1u);
    EXPECT_TRUE(extra.empty());

    // Log-probabilities report the unmasked row's top alternatives: whole rows.
    p.logprobs = 5;
    Sampler lp(p, v.vocab->n_rows, v.vocab);
    EXPECT_FALSE(lp.candidate_request(extra, n_top));
    EXPECT_THROW(lp.sample_candidates(RowCandidates{}), Error);

    // Unconstrained rows carry no mask.
    EXPECT_TRUE(Sampler(SamplingParams{}, v.vocab->n_rows).allowed_mask().empty());
}

TEST(GrammarCandidates, CandidatesOutsideTheGrammarAreAnError) {
    const auto& v = qwen3();
    SamplingParams p;
    p.seed = 3;
    p.grammar = R"(root ::= [0-2]+)";
    Sampler s(p, v.vocab->n_rows, v.vocab);
    std::vector<int32_t> extra;
    uint32_t n_top = 0;
    ASSERT_TRUE(s.candidate_request(extra, n_top));
    RowCandidates c;  // what a backend that ignored the mask would send
    for (const char* tok : {"5", "0", "1", "2"}) c.top.push_back({v.tokenizer->token_id(tok), 1.0f});
    try {
        s.sample_candidates(c);
        ADD_FAILURE() << "accepted a disallowed candidate";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Internal);
        EXPECT_NE(std::string(e.what()).find("not allowed by the grammar"), std::string::npos) << e.what();
    }
    c.top.erase(c.top.begin());
    c.top.pop_back();  // "0", "1": one allowed token short
    EXPECT_THROW(s.sample_candidates(c), Error);
}

}  // namespace
}  // namespace llcuda
