// Sampling from backend-selected candidates (ComputeBackend::top_candidates + Sampler::sample_candidates)
// against sampling the whole row (Sampler::sample): the same token, bit for bit the same
// log-probabilities, for the same seed and history, over random rows with ties, real SmolLM2 rows
// (the sampler golden files) and parameter sets that exercise every stage. The candidate selection
// of the CPU backend is checked against a full sort, also with allowed-token masks (constrained
// sampling on masked candidates: tests/grammar/masked_candidates_test.cpp).
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "backend/cpu/cpu_backend.h"
#include "engine/sampler.h"
#include "llcuda/error.h"
#include "sampler_golden.h"

namespace llcuda {
namespace {

// Rows with many equal values (a quarter step grid) and signed zeros when `ties`, so that the
// "equal logits: lower id first" rule decides membership and order.
std::vector<float> random_row(uint32_t n, bool ties, std::mt19937_64& rng) {
    std::normal_distribution<float> normal(0.0f, 3.0f);
    std::vector<float> row(n);
    for (auto& x : row) {
        x = normal(rng);
        if (ties) x = std::round(x * 4.0f) / 4.0f;
        if (x == 0.0f && rng() % 2) x = -0.0f;
    }
    return row;
}

// The reference for top_candidates: every id sorted by (logit descending, id ascending).
std::vector<int32_t> sorted_ids(const std::vector<float>& row) {
    std::vector<int32_t> ids(row.size());
    std::iota(ids.begin(), ids.end(), 0);
    std::stable_sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return row[a] > row[b]; });
    return ids;
}

RowCandidates candidates_for(Sampler& s, const std::vector<float>& row) {
    std::vector<int32_t> extra;
    uint32_t n_top = 0;
    EXPECT_TRUE(s.candidate_request(extra, n_top));
    const CandidateRequest req{0, n_top, extra};
    std::vector<RowCandidates> out;
    cpu::top_candidates(row, uint32_t(row.size()), std::span(&req, 1), out);
    return out.at(0);
}

void expect_same_logprob(const TokenLogprob& a, const TokenLogprob& b, const std::string& where) {
    EXPECT_EQ(a.token, b.token) << where;
    EXPECT_EQ(std::bit_cast<uint32_t>(a.logprob), std::bit_cast<uint32_t>(b.logprob)) << where;
    ASSERT_EQ(a.top.size(), b.top.size()) << where;
    for (size_t i = 0; i < a.top.size(); ++i) {
        EXPECT_EQ(a.top[i].first, b.top[i].first) << where << " top " << i;
        EXPECT_EQ(std::bit_cast<uint32_t>(a.top[i].second), std::bit_cast<uint32_t>(b.top[i].second)) << where;
    }
}

// What one comparison run saw, so that the tests can require that every path was exercised.
struct Tally {
    int steps = 0, via_candidates = 0, drawn = 0, with_logprobs = 0;
    int penalty_reordered = 0;  // chosen token outside the raw top-k (penalties moved it)
};

// Runs two samplers with the same parameters and history over `rows`: one on whole rows, one on
// the CPU backend's candidates whenever it can; both accept the token the first chose.
void compare_paths(const SamplingParams& p, const std::vector<int32_t>& history, const std::vector<std::vector<float>>& rows,
                   const std::string& where, Tally& t) {
    const uint32_t n_vocab = uint32_t(rows.front().size());
    Sampler full(p, n_vocab), cand(p, n_vocab);
    for (int32_t tok : history) {
        full.accept(tok);
        cand.accept(tok);
    }
    for (size_t step = 0; step < rows.size(); ++step) {
        const auto& row = rows[step];
        const std::string at = where + " step " + std::to_string(step);
        TokenLogprob lp_full, lp_cand;
        const int32_t a = full.sample(row, &lp_full);
        std::vector<int32_t> extra;
        uint32_t n_top = 0;
        int32_t b;
        if (cand.candidate_request(extra, n_top)) {
            b = cand.sample_candidates(candidates_for(cand, row), &lp_cand);
            ++t.via_candidates;
            if (p.top_k > 0) {
                const auto order = sorted_ids(row);
                const size_t k = p.temperature <= 0 && p.typical_p >= 1 ? 1 : size_t(p.top_k);
                if (std::find(order.begin(), order.begin() + std::min(k, order.size()), a) == order.begin() + std::min(k, order.size()))
                    ++t.penalty_reordered;
            }
        } else {
            b = cand.sample(row, &lp_cand);
        }
        ASSERT_EQ(a, b) << at;
        if (p.logprobs > 0) {
            expect_same_logprob(lp_full, lp_cand, at);
            ++t.with_logprobs;
        }
        if (p.temperature > 0) ++t.drawn;
        ++t.steps;
        full.accept(a);
        cand.accept(a);
    }
}

template <class T>
T pick(std::mt19937_64& rng, std::initializer_list<T> values) {
    return *(values.begin() + rng() % values.size());
}

TEST(TopCandidates, MatchFullSortWithTies) {
    std::mt19937_64 rng(7);
    int checked = 0;
    for (uint32_t n_vocab : {1u, 5u, 300u, 4099u}) {
        for (bool ties : {false, true}) {
            const uint32_t n_rows = 3;
            std::vector<float> logits;
            std::vector<std::vector<float>> rows;
            for (uint32_t r = 0; r < n_rows; ++r) {
                rows.push_back(random_row(n_vocab, ties, rng));
                logits.insert(logits.end(), rows.back().begin(), rows.back().end());
            }
            for (uint32_t n_top : {1u, 2u, 40u, 1000u, kMaxTopCandidates}) {
                n_top = std::min(n_top, n_vocab);
                std::vector<int32_t> extra;
                for (int i = 0; i < 10; ++i) extra.push_back(int32_t(rng() % n_vocab));
                const std::vector<CandidateRequest> reqs{{2, n_top, extra}, {0, n_top, {}}};
                std::vector<RowCandidates> out;
                cpu::top_candidates(logits, n_vocab, reqs, out);
                ASSERT_EQ(out.size(), reqs.size());
                for (size_t q = 0; q < reqs.size(); ++q) {
                    const auto& row = rows[reqs[q].row];
                    const auto order = sorted_ids(row);
                    ASSERT_EQ(out[q].top.size(), n_top);
                    for (uint32_t j = 0; j < n_top; ++j) {
                        ASSERT_EQ(out[q].top[j].id, order[j]) << "vocab " << n_vocab << " n_top " << n_top << " rank " << j;
                        ASSERT_EQ(std::bit_cast<uint32_t>(out[q].top[j].logit), std::bit_cast<uint32_t>(row[order[j]]));
                    }
                    ASSERT_EQ(out[q].extra.size(), reqs[q].extra.size());
                    for (size_t j = 0; j < reqs[q].extra.size(); ++j) {
                        EXPECT_EQ(out[q].extra[j].id, reqs[q].extra[j]);
                        EXPECT_EQ(out[q].extra[j].logit, row[reqs[q].extra[j]]);
                    }
                    long double sum = 0;  // log-sum-exp computed another way
                    for (float x : row) sum += std::exp((long double)x);
                    EXPECT_NEAR(out[q].log_sum_exp, double(std::log(sum)), 1e-5);
                    ++checked;
                }
            }
        }
    }
    EXPECT_EQ(checked, 4 * 2 * 5 * 2);
}

// A random mask over n_vocab tokens allowing about `n_allowed` of them (exactly, when below n_vocab / 2).
std::vector<uint64_t> random_mask(uint32_t n_vocab, uint32_t n_allowed, std::mt19937_64& rng) {
    std::vector<uint64_t> mask((n_vocab + 63) / 64, 0);
    std::vector<int32_t> ids(n_vocab);
    std::iota(ids.begin(), ids.end(), 0);
    std::shuffle(ids.begin(), ids.end(), rng);
    for (uint32_t i = 0; i < std::min(n_allowed, n_vocab); ++i) mask[size_t(ids[i]) >> 6] |= uint64_t(1) << (ids[i] & 63);
    if (n_vocab % 64) mask.back() |= ~uint64_t(0) << (n_vocab % 64);  // bits past the row are ignored
    return mask;
}

// With a mask: the top among the allowed tokens only (all of them when fewer than n_top), only the
// allowed extras, and the log-sum-exp of the whole row.
TEST(TopCandidates, MaskedMatchFullSortOfTheAllowedTokens) {
    std::mt19937_64 rng(11);
    int checked = 0, short_rows = 0, dropped_extras = 0;
    for (uint32_t n_vocab : {5u, 300u, 4099u}) {
        for (bool ties : {false, true}) {
            const auto row = random_row(n_vocab, ties, rng);
            for (uint32_t n_allowed : {1u, 3u, 50u, n_vocab / 2, n_vocab - 1, n_vocab}) {
                const auto mask = random_mask(n_vocab, n_allowed, rng);
                for (uint32_t n_top : {1u, 2u, 40u, 1000u}) {
                    n_top = std::min(n_top, n_vocab);
                    std::vector<int32_t> extra;
                    for (int i = 0; i < 10; ++i) extra.push_back(int32_t(rng() % n_vocab));
                    const CandidateRequest req{0, n_top, extra, mask};
                    std::vector<RowCandidates> out;
                    cpu::top_candidates(row, n_vocab, std::span(&req, 1), out);
                    std::vector<int32_t> order;  // the allowed ids by (logit descending, id ascending)
                    for (int32_t id : sorted_ids(row)) {
                        if ((mask[size_t(id) >> 6] >> (id & 63)) & 1) order.push_back(id);
                    }
                    const size_t want = std::min<size_t>(n_top, order.size());
                    ASSERT_EQ(out[0].top.size(), want) << "vocab " << n_vocab << " allowed " << n_allowed << " n_top " << n_top;
                    short_rows += want < n_top;
                    for (size_t j = 0; j < want; ++j) {
                        ASSERT_EQ(out[0].top[j].id, order[j]);
                        ASSERT_EQ(std::bit_cast<uint32_t>(out[0].top[j].logit), std::bit_cast<uint32_t>(row[size_t(order[j])]));
                    }
                    std::vector<int32_t> allowed_extra;
                    for (int32_t id : extra) {
                        if ((mask[size_t(id) >> 6] >> (id & 63)) & 1) allowed_extra.push_back(id);
                    }
                    dropped_extras += int(extra.size() - allowed_extra.size());
                    ASSERT_EQ(out[0].extra.size(), allowed_extra.size());
                    for (size_t j = 0; j < allowed_extra.size(); ++j) {
                        EXPECT_EQ(out[0].extra[j].id, allowed_extra[j]);
                        EXPECT_EQ(out[0].extra[j].logit, row[size_t(allowed_extra[j])]);
                    }
                    EXPECT_EQ(std::bit_cast<uint32_t>(out[0].log_sum_exp), std::bit_cast<uint32_t>(log_sum_exp(row)));
                    ++checked;
                }
            }
        }
    }
    EXPECT_EQ(checked, 3 * 2 * 6 * 4);
    EXPECT_GT(short_rows, 20);      // fewer allowed tokens than asked for: exactly the allowed ones
    EXPECT_GT(dropped_extras, 100);  // masked-out extras left out
}

TEST(TopCandidates, RejectBadRequests) {
    const std::vector<float> logits(2 * 100, 1.0f);
    std::vector<RowCandidates> out;
    const std::vector<int32_t> outside{100}, negative{-1};
    for (const CandidateRequest& bad : {CandidateRequest{2, 5, {}}, CandidateRequest{0, 0, {}}, CandidateRequest{0, 101, {}},
                                        CandidateRequest{1, 5, outside}, CandidateRequest{1, 5, negative}}) {
        try {
            cpu::top_candidates(logits, 100, std::span(&bad, 1), out);
            ADD_FAILURE() << "accepted row " << bad.row << " n_top " << bad.n_top;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
            EXPECT_NE(std::string(e.what()).find("top_candidates: request 0"), std::string::npos) << e.what();
        }
    }
    const std::vector<uint64_t> short_mask(1, ~uint64_t(0));  // 100 tokens need 2 words
    try {
        const CandidateRequest bad{0, 5, {}, short_mask};
        cpu::top_candidates(logits, 100, std::span(&bad, 1), out);
        ADD_FAILURE() << "accepted a mask of 1 word for 100 tokens";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
        EXPECT_NE(std::string(e.what()).find("mask of 1 64-bit words where 100 tokens need 2"), std::string::npos) << e.what();
    }
    const std::vector<float> big(kMaxTopCandidates + 10, 0.5f);
    const CandidateRequest too_many{0, kMaxTopCandidates + 1, {}};
    EXPECT_THROW(cpu::top_candidates(big, uint32_t(big.size()), std::span(&too_many, 1), out), Error);
}

TEST(CandidateSampling, RequestCoversTopKPenaltiesAndLogprobs) {
    SamplingParams p;
    p.seed = 1;
    p.top_k = 40;
    p.repetition_penalty = 1.2f;
    p.penalty_last_n = 4;
    Sampler s(p, 1000);
    for (int32_t t : {7, 3, 7, 999, 1000, 12, 3}) s.accept(t);  // window: 999 1000 12 3 (1000 is outside)
    std::vector<int32_t> extra;
    uint32_t n_top = 0;
    ASSERT_TRUE(s.candidate_request(extra, n_top));
    EXPECT_EQ(extra, (std::vector<int32_t>{3, 12, 999}));
    EXPECT_EQ(n_top, 43u);

    p.logprobs = 20;
    p.top_k = 2;
    p.repetition_penalty = 1.0f;
    ASSERT_TRUE(Sampler(p, 1000).candidate_request(extra, n_top));
    EXPECT_TRUE(extra.empty());
    EXPECT_EQ(n_top, 20u);  // logprobs' top 20 must be among the candidates

    p.logprobs = 0;
    p.temperature = 0;  // greedy: top-k is irrelevant, one candidate decides
    p.top_k = 0;
    ASSERT_TRUE(Sampler(p, 1000).candidate_request(extra, n_top));
    EXPECT_EQ(n_top, 1u);
    EXPECT_TRUE(Sampler(p, 1000).argmax_suffices());

    p.temperature = 0.8f;  // sampled with top-k disabled or covering the row: whole rows needed
    EXPECT_FALSE(Sampler(p, 1000).candidate_request(extra, n_top));
    p.top_k = 1000;
    EXPECT_FALSE(Sampler(p, 1000).candidate_request(extra, n_top));
    p.top_k = 999;
    EXPECT_TRUE(Sampler(p, 1000).candidate_request(extra, n_top));
    EXPECT_FALSE(Sampler(p, 1000).argmax_suffices());
    p.top_k = 3000;
    EXPECT_FALSE(Sampler(p, 4000).candidate_request(extra, n_top));  // more than kMaxTopCandidates
}

// A penalty that raises a token (negative presence penalty) must reach a token far below the top:
// the penalized ids are candidates whatever their raw logit.
TEST(CandidateSampling, RaisedTokenFromFarBelowTheTop) {
    std::vector<float> row(500);
    for (size_t i = 0; i < row.size(); ++i) row[i] = float(i % 50) * 0.1f;
    row[123] = -8.0f;  // the lowest logit of the row
    SamplingParams p;
    p.temperature = 0;
    p.presence_penalty = -20.0f;
    Sampler full(p, 500), cand(p, 500);
    full.accept(123);
    cand.accept(123);
    EXPECT_EQ(full.sample(row), 123);
    EXPECT_EQ(cand.sample_candidates(candidates_for(cand, row)), 123);
}

// The bound k + |H| is tight: here the penalized tokens are the |H| best of the row and the
// penalties sink them, so the k survivors of top-k are raw ranks |H| .. |H| + k - 1; one candidate
// fewer would lose the last of them and change the draws.
TEST(CandidateSampling, PenaltiesSinkingTheTopNeedAllKPlusHCandidates) {
    const uint32_t n_vocab = 300, n_pen = 6;
    std::vector<float> row(n_vocab);
    for (uint32_t i = 0; i < n_vocab; ++i) row[i] = 5.0f - 0.01f * float(i);  // id order is rank order
    SamplingParams p;
    p.temperature = 1.0f;
    p.top_k = 4;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.presence_penalty = 100.0f;
    std::vector<int32_t> history;
    for (uint32_t i = 0; i < n_pen; ++i) history.push_back(int32_t(i));
    std::set<int32_t> drawn;
    for (uint64_t seed = 0; seed < 64; ++seed) {
        p.seed = seed;
        Sampler full(p, n_vocab), cand(p, n_vocab);
        for (int32_t t : history) {
            full.accept(t);
            cand.accept(t);
        }
        std::vector<int32_t> extra;
        uint32_t n_top = 0;
        ASSERT_TRUE(cand.candidate_request(extra, n_top));
        EXPECT_EQ(n_top, uint32_t(p.top_k) + n_pen);
        const int32_t a = full.sample(row);
        EXPECT_EQ(cand.sample_candidates(candidates_for(cand, row)), a) << "seed " << seed;
        drawn.insert(a);
    }
    EXPECT_EQ(drawn, (std::set<int32_t>{6, 7, 8, 9}));  // ranks |H| .. |H| + k - 1, each drawn
}

TEST(CandidateSampling, IncompleteCandidatesAreAnError) {
    SamplingParams p;
    p.seed = 5;
    p.top_k = 10;
    p.frequency_penalty = 0.5f;
    Sampler s(p, 100);
    s.accept(42);
    std::mt19937_64 rng(3);
    RowCandidates c = candidates_for(s, random_row(100, false, rng));
    RowCandidates no_extra = c;
    no_extra.extra.clear();
    if (std::none_of(no_extra.top.begin(), no_extra.top.end(), [](const TokenLogit& t) { return t.id == 42; })) {
        EXPECT_THROW(s.sample_candidates(no_extra), Error);
    }
    RowCandidates short_top = c;
    short_top.top.resize(5);
    try {
        s.sample_candidates(short_top);
        ADD_FAILURE() << "accepted 5 of 11 candidates";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Internal);
    }
}

TEST(CandidateSampling, SameTokensAsFullRowsOnRandomRows) {
    std::mt19937_64 rng(2024);
    Tally t;
    for (int trial = 0; trial < 600; ++trial) {
        const uint32_t n_vocab = pick(rng, {2u, 64u, 1000u, 4099u});
        const bool ties = rng() % 2;
        SamplingParams p;
        p.seed = rng();
        p.temperature = pick(rng, {0.0f, 0.3f, 0.8f, 1.5f});
        p.top_k = pick<int32_t>(rng, {1, 2, 10, 40, 200, int32_t(n_vocab) - 1, 0});
        p.top_p = pick(rng, {1.0f, 0.95f, 0.5f});
        p.min_p = pick(rng, {0.0f, 0.05f, 0.3f});
        p.typical_p = pick(rng, {1.0f, 1.0f, 0.7f});
        p.repetition_penalty = pick(rng, {1.0f, 1.3f, 0.7f});
        p.presence_penalty = pick(rng, {0.0f, 0.5f, -0.5f});
        p.frequency_penalty = pick(rng, {0.0f, 0.3f, -0.2f});
        p.penalty_last_n = pick(rng, {-1, 0, 8, 64});
        p.logprobs = pick(rng, {0u, 0u, 3u, 20u});
        std::vector<int32_t> history(rng() % 100);
        for (auto& h : history) h = int32_t(rng() % std::min(n_vocab, 60u));  // repeats, so counts > 1
        std::vector<std::vector<float>> rows;
        for (int step = 0; step < 6; ++step) rows.push_back(random_row(n_vocab, ties, rng));
        compare_paths(p, history, rows, "trial " + std::to_string(trial), t);
        if (HasFatalFailure()) return;
    }
    // Every path was really taken: most steps on candidates, draws, logprobs, penalties that moved
    // the chosen token out of the raw top-k.
    EXPECT_EQ(t.steps, 600 * 6);
    EXPECT_GT(t.via_candidates, t.steps * 2 / 3);  // the rest: top-k disabled on a sampled row
    EXPECT_GT(t.drawn, t.steps / 2);
    EXPECT_GT(t.with_logprobs, t.steps / 4);
    EXPECT_GT(t.penalty_reordered, 20);
    std::printf("steps %d, via candidates %d, drawn %d, with logprobs %d, penalties moved the choice %d\n", t.steps,
                t.via_candidates, t.drawn, t.with_logprobs, t.penalty_reordered);
}

// Real SmolLM2 rows and histories (tests/golden/sampler), every parameter set of the golden chain
// cases with top-k forced on where they disable it, with logprobs and several seeds.
TEST(CandidateSampling, SameTokensAsFullRowsOnRealLogits) {
    const auto& g = test::sampler_golden();
    Tally t;
    for (const auto& c : g.doc.at("chain_cases")) {
        const auto name = c.at("row").get<std::string>();
        const auto& row = g.rows.at(name);
        const auto& history = g.histories.at(name);
        SamplingParams p = test::sampler_golden_params(c.at("params"));
        if (p.top_k <= 0) p.top_k = 300;
        for (uint64_t seed = 0; seed < 8; ++seed) {
            p.seed = seed;
            p.logprobs = seed % 2 ? 20 : 0;
            // The same row several times: the history grows with each choice, so penalties change.
            compare_paths(p, history, std::vector<std::vector<float>>(4, row),
                          c.at("name").get<std::string>() + " seed " + std::to_string(seed), t);
            if (HasFatalFailure()) return;
        }
    }
    EXPECT_EQ(t.via_candidates, t.steps);
    EXPECT_GT(t.drawn, t.steps / 2);
}

}  // namespace
}  // namespace llcuda
