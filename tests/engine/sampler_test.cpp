// Sampler properties: greedy is argmax, seeds reproduce, filters restrict the support, penalties
// and log-probabilities behave as defined. The stages' exact output is checked against llama.cpp
// in sampler_oracle_test.cpp.
#include <cmath>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "engine/sampler.h"
#include "llcuda/error.h"

namespace llcuda {
namespace {

std::vector<float> random_logits(uint32_t n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    std::vector<float> l(n);
    for (auto& x : l) x = normal(rng);
    return l;
}

int32_t argmax(const std::vector<float>& l) { return int32_t(std::max_element(l.begin(), l.end()) - l.begin()); }

TEST(Sampler, GreedyIsArgmax) {
    SamplingParams p;
    p.temperature = 0;
    Sampler s(p, 1000);
    for (uint64_t seed = 0; seed < 20; ++seed) {
        const auto l = random_logits(1000, seed);
        EXPECT_EQ(s.sample(l), argmax(l));
    }
}

TEST(Sampler, TopKOfOneIsGreedy) {
    SamplingParams p;
    p.temperature = 1.5f;
    p.top_k = 1;
    p.seed = 3;
    Sampler s(p, 500);
    for (uint64_t seed = 0; seed < 20; ++seed) {
        const auto l = random_logits(500, seed);
        EXPECT_EQ(s.sample(l), argmax(l));
    }
}

TEST(Sampler, SameSeedSameDraws) {
    SamplingParams p;
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.seed = 1234;
    Sampler a(p, 300), b(p, 300);
    std::vector<int32_t> da, db;
    for (uint64_t i = 0; i < 200; ++i) {
        const auto l = random_logits(300, i);
        da.push_back(a.sample(l));
        db.push_back(b.sample(l));
    }
    EXPECT_EQ(da, db);
    EXPECT_GT(std::set<int32_t>(da.begin(), da.end()).size(), 10u);  // it really samples
    p.seed = 99;
    Sampler c(p, 300);
    std::vector<int32_t> dc;
    for (uint64_t i = 0; i < 200; ++i) dc.push_back(c.sample(random_logits(300, i)));
    EXPECT_NE(da, dc);
}

TEST(Sampler, FiltersKeepOnlyAllowedTokens) {
    const auto l = random_logits(200, 42);
    std::vector<int32_t> order(200);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return l[a] > l[b]; });
    SamplingParams p;
    p.temperature = 5.0f;  // flat distribution, so draws spread over whatever the filter keeps
    p.top_k = 5;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.seed = 1;
    Sampler s(p, 200);
    const std::set<int32_t> allowed(order.begin(), order.begin() + 5);
    std::set<int32_t> seen;
    for (int i = 0; i < 500; ++i) seen.insert(s.sample(l));
    for (int32_t t : seen) EXPECT_TRUE(allowed.count(t)) << t;
    EXPECT_EQ(seen.size(), 5u);

    // min_p: tokens below min_p * p_max (at temperature 1 probabilities) are never drawn.
    SamplingParams m;
    m.temperature = 1.0f;
    m.top_k = 0;
    m.top_p = 1.0f;
    m.min_p = 0.2f;
    m.seed = 2;
    Sampler ms(m, 200);
    const float max = *std::max_element(l.begin(), l.end());
    for (int i = 0; i < 500; ++i) {
        const int32_t t = ms.sample(l);
        EXPECT_GE(std::exp(l[t] - max), 0.2f - 1e-6f);
    }
}

TEST(Sampler, RepetitionPenaltyAvoidsSeenTokens) {
    std::vector<float> l(10, 0.0f);
    l[3] = 2.0f;
    l[7] = 1.9f;
    SamplingParams p;
    p.temperature = 0;
    p.repetition_penalty = 1.5f;
    Sampler s(p, 10);
    EXPECT_EQ(s.sample(l), 3);
    s.accept(3);
    EXPECT_EQ(s.sample(l), 7);  // 2.0 / 1.5 < 1.9
    SamplingParams f;
    f.temperature = 0;
    f.frequency_penalty = 0.06f;
    Sampler fs(f, 10);
    fs.accept(3);
    EXPECT_EQ(fs.sample(l), 3);  // 2.0 - 0.06 > 1.9
    fs.accept(3);
    EXPECT_EQ(fs.sample(l), 7);  // 2.0 - 0.12 < 1.9
}

// The reported log-probabilities are the model's: log-softmax of the raw logits.
TEST(Sampler, LogprobsAreTheModelsLogSoftmax) {
    const auto l = random_logits(1000, 7);
    SamplingParams p;
    p.temperature = 0;
    p.logprobs = 5;
    Sampler s(p, 1000);
    TokenLogprob lp;
    const int32_t t = s.sample(l, &lp);
    ASSERT_EQ(lp.top.size(), 5u);
    EXPECT_EQ(lp.top[0].first, t);
    EXPECT_FLOAT_EQ(lp.top[0].second, lp.logprob);
    for (size_t i = 1; i < lp.top.size(); ++i) EXPECT_LE(lp.top[i].second, lp.top[i - 1].second);
    const float max = *std::max_element(l.begin(), l.end());
    double z = 0;
    for (float x : l) z += std::exp(double(x) - max);
    EXPECT_NEAR(lp.logprob, l[t] - max - std::log(z), 1e-4);
    for (const auto& [id, logprob] : lp.top) EXPECT_NEAR(logprob, l[id] - max - std::log(z), 1e-4) << id;
}

TEST(Sampler, RejectsBadParameters) {
    SamplingParams p;
    p.top_p = 0;
    EXPECT_THROW(validate(p), Error);
    p = {};
    p.temperature = -1;
    EXPECT_THROW(validate(p), Error);
    p = {};
    p.stop = {""};
    EXPECT_THROW(validate(p), Error);
    p = {};
    p.logprobs = 1000;
    EXPECT_THROW(Sampler(p, 10), Error);
}

}  // namespace
}  // namespace llcuda
