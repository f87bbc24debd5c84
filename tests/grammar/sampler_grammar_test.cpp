// The Sampler with a grammar, on random logits over Qwen3's 151k vocabulary: every sampled token is
// one the grammar allows under every sampling setting, a grammar with one sentence always yields
// it, the chain's distribution is the unconstrained one renormalized over the allowed tokens, and
// bad requests are refused clearly.
#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "engine/sampler.h"
#include "engine/sampler_stages.h"
#include "grammar/matcher.h"
#include "grammar_test_util.h"
#include "llcuda/error.h"
#include "llcuda/grammar.h"

namespace llcuda {
namespace {

using grammar::test::bit;

const grammar::test::LoadedVocabulary& qwen3() {
    static const auto v = grammar::test::load_vocabulary("qwen3");
    return v;
}

std::vector<float> random_logits(std::mt19937_64& rng, size_t n) {
    std::normal_distribution<float> normal(0.0f, 3.0f);
    std::vector<float> l(n);
    for (auto& x : l) x = normal(rng);
    return l;
}

SamplingParams free_sampling() {
    SamplingParams p;
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    return p;
}

TEST(GrammarSampler, EveryTokenIsAllowedUnderEverySetting) {
    const auto& v = qwen3();
    std::vector<SamplingParams> settings;
    SamplingParams p;
    p.temperature = 0;  // greedy
    settings.push_back(p);
    p = SamplingParams{};  // llama.cpp defaults: top-k 40, top-p 0.95, min-p 0.05, temperature 0.8
    settings.push_back(p);
    p = free_sampling();
    p.typical_p = 0.5f;
    p.repetition_penalty = 1.3f;
    p.presence_penalty = 0.5f;
    p.frequency_penalty = 0.2f;
    settings.push_back(p);
    p = free_sampling();
    p.top_k = 3;
    p.min_p = 0.3f;
    p.temperature = 1.5f;
    settings.push_back(p);
    const std::string schema = R"({"type": "object", "properties": {"n": {"type": "integer", "minimum": 0, "maximum": 99},
        "s": {"type": "string", "maxLength": 8}, "e": {"enum": ["x", "yy"]}}, "required": ["n", "s", "e"]})";
    std::mt19937_64 rng(7);
    for (size_t k = 0; k < settings.size(); ++k) {
        SamplingParams sp = settings[k];
        sp.json_schema = schema;
        sp.seed = k + 1;
        Sampler sampler(sp, v.vocab->n_rows, v.vocab);
        // An independent matcher fed the same tokens checks each choice.
        grammar::Matcher check(v.vocab, grammar::parse_gbnf(json_schema_to_grammar(schema)));
        bool ended = false;
        for (int t = 0; t < 80 && !ended; ++t) {
            const int32_t id = sampler.sample(random_logits(rng, v.vocab->n_rows));
            ASSERT_TRUE(check.is_allowed(id)) << "setting " << k << " step " << t << " token " << id;
            if (v.vocab->is_end(id)) {
                ended = true;
                EXPECT_TRUE(check.complete());
            } else {
                sampler.accept(id);
                check.accept(id);
            }
        }
    }
}

TEST(GrammarSampler, OneSentenceGrammarAlwaysGivesIt) {
    const auto& v = qwen3();
    const std::string sentence = "Grammars steer: {\"ok\": true} \xE2\x9C\x93";  // ends in a 3-byte character
    for (uint64_t seed = 1; seed <= 25; ++seed) {
        SamplingParams p = free_sampling();
        p.seed = seed;
        std::string escaped;
        for (char c : sentence) {
            if (c == '"' || c == '\\') escaped += '\\';
            escaped += c;
        }
        p.grammar = "root ::= \"" + escaped + "\"";
        Sampler sampler(p, v.vocab->n_rows, v.vocab);
        std::mt19937_64 rng(seed);
        std::vector<int32_t> ids;
        int32_t id = -1;
        for (int t = 0; t < 100; ++t) {
            id = sampler.sample(random_logits(rng, v.vocab->n_rows));
            if (v.vocab->is_end(id)) break;
            sampler.accept(id);
            ids.push_back(id);
        }
        EXPECT_TRUE(v.vocab->is_end(id)) << "seed " << seed;
        EXPECT_EQ(v.tokenizer->decode(ids), sentence) << "seed " << seed;
    }
}

TEST(GrammarSampler, MaskedDistributionIsTheRenormalizedOne) {
    const auto& v = qwen3();
    grammar::Matcher m(v.vocab, grammar::parse_gbnf(R"g(root ::= [0-9]+ "." [a-f]*)g"));
    m.accept(v.tokenizer->token_id("4"));
    const auto& mask = m.allowed();
    std::mt19937_64 rng(3);
    const auto logits = random_logits(rng, v.vocab->n_rows);
    // Temperature 1, no filters: p(t) = exp(l_t) / sum over allowed exp(l).
    const auto c = sampling::run_chain_masked(logits, {}, free_sampling(), mask);
    double z = 0;
    size_t n_allowed = 0;
    float max_l = -INFINITY;
    for (uint32_t t = 0; t < v.vocab->n_rows; ++t) {
        if (bit(mask, int32_t(t))) { max_l = std::max(max_l, logits[t]); ++n_allowed; }
    }
    for (uint32_t t = 0; t < v.vocab->n_rows; ++t) {
        if (bit(mask, int32_t(t))) z += std::exp(double(logits[t] - max_l));
    }
    ASSERT_EQ(c.size(), n_allowed);
    ASSERT_GT(n_allowed, 10u);
    for (const auto& x : c) {
        ASSERT_TRUE(bit(mask, x.id));
        EXPECT_NEAR(x.p, std::exp(double(logits[size_t(x.id)] - max_l)) / z, 1e-6) << x.id;
    }
    // With filters: the same survivors and probabilities as the whole chain on a row whose
    // disallowed logits are -inf (typical sampling aside, where -inf would give NaN).
    SamplingParams f = free_sampling();
    f.top_k = 20;
    f.top_p = 0.9f;
    f.min_p = 0.01f;
    f.temperature = 0.7f;
    std::vector<float> row = logits;
    for (uint32_t t = 0; t < v.vocab->n_rows; ++t) {
        if (!bit(mask, int32_t(t))) row[t] = -INFINITY;
    }
    const auto masked = sampling::run_chain_masked(logits, {}, f, mask);
    const auto whole = sampling::run_chain(row, {}, f);
    std::vector<std::pair<int32_t, float>> a, b;
    for (const auto& x : masked) a.emplace_back(x.id, x.p);
    for (const auto& x : whole) {
        if (x.p > 0) b.emplace_back(x.id, x.p);
    }
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].first, b[i].first);
        EXPECT_NEAR(a[i].second, b[i].second, 1e-6);
    }
}

TEST(GrammarSampler, BadRequestsAreRefused) {
    const auto& v = qwen3();
    auto error_of = [&](const SamplingParams& p) -> std::pair<ErrorKind, std::string> {
        try {
            Sampler s(p, v.vocab->n_rows, v.vocab);
        } catch (const Error& e) {
            return {e.kind(), e.what()};
        }
        return {ErrorKind::Internal, "no error"};
    };
    SamplingParams p;
    p.grammar = "root ::= \"a\"\nbad ::= [";
    auto [k1, m1] = error_of(p);
    EXPECT_EQ(k1, ErrorKind::InvalidArgument);
    EXPECT_NE(m1.find("line 2, column 9"), std::string::npos) << m1;
    p.grammar.clear();
    p.json_schema = R"({"type": "string", "not": {}})";
    auto [k2, m2] = error_of(p);
    EXPECT_EQ(k2, ErrorKind::Unsupported);
    EXPECT_NE(m2.find("'not'"), std::string::npos) << m2;
    p.json_schema = R"({"type": "string"})";
    p.ignore_eos = true;
    EXPECT_EQ(error_of(p).first, ErrorKind::InvalidArgument);
    p.ignore_eos = false;
    p.grammar = "root ::= \"a\"";
    EXPECT_NE(error_of(p).second.find("either a grammar or a JSON schema"), std::string::npos);
}

}  // namespace
}  // namespace llcuda
