// Our sampler against llama.cpp's sampler chain (golden files from tests/oracles/sampler_golden.py,
// real SmolLM2 logits): the surviving candidates, their logits and probabilities after each stage,
// alone and in the chain; Sampler's draws against llama.cpp's final distribution (chi-square).
#include <algorithm>
#include <bit>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/sampler.h"
#include "engine/sampler_stages.h"
#include "sampler_golden.h"

namespace llcuda {
namespace {

using nlohmann::json;
using sampling::Candidate;
using sampling::Stage;

using Golden = test::SamplerGolden;
const Golden& golden() { return test::sampler_golden(); }
SamplingParams params_of(const json& j) { return test::sampler_golden_params(j); }

std::vector<Candidate> candidates_of(const std::vector<float>& row) {
    std::vector<Candidate> c(row.size());
    for (size_t i = 0; i < row.size(); ++i) c[i] = {int32_t(i), row[i], 0.0f};
    return c;
}

std::vector<Candidate> by_id(std::vector<Candidate> c) {
    std::sort(c.begin(), c.end(), [](const Candidate& a, const Candidate& b) { return a.id < b.id; });
    return c;
}

// Our float softmax sums in double, llama.cpp's in float: agreement to 1e-4 relative. A wrong
// candidate set or temperature moves probabilities by far more.
void expect_prob(float ours, float theirs, const std::string& where) {
    EXPECT_NEAR(ours, theirs, 1e-7 + 1e-4 * std::abs(theirs)) << where;
}

// `after` against a golden stage record; `before` is the stage's input.
void expect_stage(const json& rec, const std::vector<Candidate>& before, const std::vector<Candidate>& after,
                  const std::string& where) {
    const auto ours = by_id(after);
    if (rec.contains("changed_ids")) {  // penalties: the whole row, with these logits changed
        std::vector<float> expected(before.size());
        for (const auto& c : before) expected[size_t(c.id)] = c.logit;
        const auto ids = rec.at("changed_ids").get<std::vector<int32_t>>();
        const auto logits = rec.at("changed_logits").get<std::vector<float>>();
        for (size_t i = 0; i < ids.size(); ++i) expected[size_t(ids[i])] = logits[i];
        ASSERT_EQ(ours.size(), expected.size()) << where;
        for (size_t i = 0; i < ours.size(); ++i) EXPECT_FLOAT_EQ(ours[i].logit, expected[i]) << where << " id " << i;
        return;
    }
    if (rec.value("unchanged", false)) {
        const auto in = by_id(before);
        ASSERT_EQ(ours.size(), in.size()) << where;
        for (size_t i = 0; i < ours.size(); ++i) {
            EXPECT_EQ(ours[i].id, in[i].id) << where;
            EXPECT_EQ(ours[i].logit, in[i].logit) << where;
        }
        return;
    }
    const auto ids = rec.at("ids").get<std::vector<int32_t>>();
    const auto logits = rec.at("logits").get<std::vector<float>>();
    std::vector<int32_t> our_ids;
    for (const auto& c : ours) our_ids.push_back(c.id);
    ASSERT_EQ(our_ids, ids) << where;
    for (size_t i = 0; i < ours.size(); ++i) EXPECT_FLOAT_EQ(ours[i].logit, logits[i]) << where << " id " << ids[i];
    if (rec.contains("p")) {  // the probabilities the stage itself computed (before its cut)
        const auto p = rec.at("p").get<std::vector<float>>();
        for (size_t i = 0; i < ours.size(); ++i) expect_prob(ours[i].p, p[i], where + " p of " + std::to_string(ids[i]));
    }
    auto draw = ours;
    sampling::softmax(draw);
    const auto p_draw = rec.at("p_draw").get<std::vector<float>>();
    for (size_t i = 0; i < draw.size(); ++i) expect_prob(draw[i].p, p_draw[i], where + " p_draw of " + std::to_string(ids[i]));
}

void apply_filter(const std::string& stage, const SamplingParams& p, std::vector<Candidate>& c) {
    if (stage == "top_k") return sampling::top_k(c, p.top_k);
    if (stage == "typical") return sampling::typical(c, p.typical_p);
    if (stage == "top_p") return sampling::top_p(c, p.top_p);
    if (stage == "min_p") return sampling::min_p(c, p.min_p);
    if (stage == "temperature") return sampling::temperature(c, p.temperature);
    FAIL() << "unknown stage " << stage;
}

TEST(SamplerOracle, EachStageAloneMatchesLlamaCpp) {
    const auto& g = golden();
    std::map<std::string, int> cut;  // per stage: cases where llama.cpp removed or changed something
    for (const auto& tc : g.doc.at("stage_cases")) {
        const auto stage = tc.at("stage").get<std::string>();
        const auto name = tc.at("row").get<std::string>();
        const auto params = params_of(tc.at("params"));
        const auto where = stage + " on " + name + " " + tc.at("params").dump();
        const auto& row = g.rows.at(name);
        const auto before = candidates_of(row);
        std::vector<Candidate> after;
        if (stage == "penalties") {
            auto penalized = row;
            sampling::penalties(penalized, g.histories.at(name), params);
            after = candidates_of(penalized);
        } else {
            after = before;
            apply_filter(stage, params, after);
        }
        expect_stage(tc.at("result"), before, after, where);
        if (!tc.at("result").value("unchanged", false)) ++cut[stage];
    }
    // Every stage was seen doing something, not only switched off.
    for (const char* s : {"penalties", "top_k", "typical", "top_p", "min_p", "temperature"}) EXPECT_GE(cut[s], 3) << s;
}

TEST(SamplerOracle, ChainMatchesLlamaCppAfterEveryStage) {
    const auto& g = golden();
    ASSERT_GE(g.doc.at("chain_cases").size(), 10u);
    for (const auto& tc : g.doc.at("chain_cases")) {
        const auto name = tc.at("row").get<std::string>();
        const auto where = tc.at("name").get<std::string>() + " on " + name;
        const auto params = params_of(tc.at("params"));
        const auto& row = g.rows.at(name);
        std::vector<std::pair<Stage, std::vector<Candidate>>> seen;
        const auto final_c = sampling::run_chain(row, g.histories.at(name), params, [&](Stage s, std::span<const Candidate> c) {
            seen.emplace_back(s, std::vector<Candidate>(c.begin(), c.end()));
        });
        const auto& stages = tc.at("stages");
        ASSERT_EQ(seen.size(), stages.size()) << where;
        auto before = candidates_of(row);
        for (size_t i = 0; i < seen.size(); ++i) {
            ASSERT_EQ(sampling::stage_name(seen[i].first), stages[i].at("stage").get<std::string>()) << where;
            expect_stage(stages[i], before, seen[i].second, where + " after " + sampling::stage_name(seen[i].first));
            before = seen[i].second;
        }
        const auto ours = by_id(final_c);
        const auto ids = tc.at("final").at("ids").get<std::vector<int32_t>>();
        const auto p = tc.at("final").at("p").get<std::vector<float>>();
        ASSERT_EQ(ours.size(), ids.size()) << where;
        for (size_t i = 0; i < ours.size(); ++i) {
            EXPECT_EQ(ours[i].id, ids[i]) << where;
            expect_prob(ours[i].p, p[i], where + " final p");
        }
    }
}

// Upper 1e-6 tail of the chi-square distribution with `df` degrees of freedom (Wilson–Hilferty).
double chi_square_limit(size_t df) {
    const double d = double(df), z = 4.753;
    const double t = 1.0 - 2.0 / (9.0 * d) + z * std::sqrt(2.0 / (9.0 * d));
    return d * t * t * t;
}

// Pearson's statistic of `counts` against `p` (same order), pooling cells expected below 5.
std::pair<double, size_t> chi_square(const std::vector<int>& counts, const std::vector<double>& p, int n) {
    double stat = 0, pooled_e = 0, pooled_o = 0;
    size_t cells = 0;
    for (size_t i = 0; i < p.size(); ++i) {
        const double e = p[i] * n;
        if (e < 5) {
            pooled_e += e;
            pooled_o += counts[i];
            continue;
        }
        stat += (counts[i] - e) * (counts[i] - e) / e;
        ++cells;
    }
    if (pooled_e > 0) {
        stat += (pooled_o - pooled_e) * (pooled_o - pooled_e) / std::max(pooled_e, 1e-9);
        ++cells;
    }
    return {stat, cells > 1 ? cells - 1 : 1};
}

// Sampler::sample, seeded and fed the golden history, draws from llama.cpp's final distribution.
// The same counts are also tested against two wrong distributions (probabilities moved one rank
// down; temperature forgotten) to show that the threshold rejects a wrong sampler.
TEST(SamplerOracle, DrawsFollowLlamaCppFinalDistribution) {
    const auto& g = golden();
    int tested = 0, rejected_wrong = 0;
    for (const auto& tc : g.doc.at("chain_cases")) {
        const auto name = tc.at("row").get<std::string>();
        const auto where = tc.at("name").get<std::string>() + " on " + name;
        auto params = params_of(tc.at("params"));
        params.seed = 2024;
        const auto& row = g.rows.at(name);
        Sampler sampler(params, uint32_t(row.size()));
        for (int32_t t : g.histories.at(name)) sampler.accept(t);
        const auto ids = tc.at("final").at("ids").get<std::vector<int32_t>>();
        const auto p_f = tc.at("final").at("p").get<std::vector<float>>();
        if (params.temperature <= 0) {  // greedy: llama.cpp's chain keeps exactly one token
            ASSERT_EQ(ids.size(), 1u) << where;
            EXPECT_EQ(sampler.sample(row), ids[0]) << where;
            continue;
        }
        const int n = row.size() > 4096 ? 2000 : 10000;  // the full vocabulary is slower to filter
        std::map<int32_t, size_t> index;
        for (size_t i = 0; i < ids.size(); ++i) index[ids[i]] = i;
        std::vector<int> counts(ids.size(), 0);
        for (int k = 0; k < n; ++k) {
            const auto it = index.find(sampler.sample(row));
            ASSERT_NE(it, index.end()) << where << ": drew a token llama.cpp's chain removed";
            ++counts[it->second];
        }
        const std::vector<double> p(p_f.begin(), p_f.end());
        const auto [stat, df] = chi_square(counts, p, n);
        EXPECT_LT(stat, chi_square_limit(df)) << where << " (df " << df << ")";
        ++tested;

        // Wrong distributions over the same tokens: must be rejected whenever they differ enough
        // to be detectable (noncentrality n·Σ(p−q)²/q well above the limit).
        std::vector<size_t> rank(ids.size());
        std::iota(rank.begin(), rank.end(), size_t(0));
        std::sort(rank.begin(), rank.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
        std::vector<double> shifted(p.size());
        for (size_t r = 0; r < rank.size(); ++r) shifted[rank[(r + 1) % rank.size()]] = p[rank[r]];
        std::vector<double> untempered(p.size());
        double z = 0;
        for (size_t i = 0; i < p.size(); ++i) z += (untempered[i] = std::pow(p[i], double(params.temperature)));
        for (auto& q : untempered) q /= z;
        for (const auto& q : {shifted, untempered}) {
            double lambda = 0;
            for (size_t i = 0; i < p.size(); ++i) lambda += n * (p[i] - q[i]) * (p[i] - q[i]) / std::max(q[i], 1e-12);
            const auto [wrong, wrong_df] = chi_square(counts, q, n);
            if (lambda < 10 * chi_square_limit(wrong_df)) continue;
            EXPECT_GT(wrong, chi_square_limit(wrong_df)) << where << ": a wrong distribution passed";
            ++rejected_wrong;
        }
    }
    EXPECT_GE(tested, 8);
    EXPECT_GE(rejected_wrong, 8);
}

TEST(SamplerOracle, SeededDrawsRepeat) {
    const auto& g = golden();
    const auto& row = g.rows.at("chat");
    SamplingParams p;  // the defaults (top-k 40, top-p 0.95, temperature 0.8) with min-p off
    p.min_p = 0;
    p.repetition_penalty = 1.1f;
    p.seed = 77;
    auto draws = [&](const SamplingParams& params) {
        Sampler s(params, uint32_t(row.size()));
        for (int32_t t : g.histories.at("chat")) s.accept(t);
        std::vector<int32_t> out;
        for (int i = 0; i < 300; ++i) out.push_back(s.sample(row));
        return out;
    };
    const auto a = draws(p);
    EXPECT_EQ(a, draws(p));
    EXPECT_GT(std::set<int32_t>(a.begin(), a.end()).size(), 10u);  // it really samples
    p.seed = 78;
    EXPECT_NE(a, draws(p));
}

}  // namespace
}  // namespace llcuda
