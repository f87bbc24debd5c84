// VRAM planner: exact sizes against what llama-quantize really produced, KV sizes against the
// engine's own cache, the one KV-size formula, and the recommendation's properties (fits,
// monotonic, strategy ceilings).
#include <algorithm>

#include <gtest/gtest.h>

#include "llcuda/engine.h"
#include "llcuda/error.h"
#include "llcuda/gguf.h"
#include "llcuda/kv_size.h"
#include "llcuda/planner.h"
#include "test_paths.h"

namespace llcuda {
namespace {

const PlanCandidate& candidate(const Plan& p, const std::string& type) {
    for (const auto& c : p.candidates) {
        if (c.type == type) return c;
    }
    throw std::runtime_error("no candidate " + type);
}

uint64_t tensor_bytes(const GgufFile& f) {
    uint64_t n = 0;
    for (const auto& t : f.contents().tensors) n += t.n_bytes;
    return n;
}

TEST(Planner, PlannedSizeOfTheFilesOwnPresetIsWhatLlamaQuantizeWrote) {
    for (const auto& [path, preset] : {std::pair{test::gemma3_path(), "Q4_K_M"}, std::pair{test::smollm2_path(), "Q4_1"}}) {
        LLCUDA_REQUIRE_FILE(path);
        PlanRequest r;
        r.model = path;
        r.vram_gib = 4;
        const Plan p = plan_deployment(r);
        EXPECT_TRUE(p.exact_sizes);
        EXPECT_EQ(candidate(p, preset).weight_bytes, tensor_bytes(GgufFile::open(path))) << path;
    }
}

// The planner reads the cache shape from GGUF keys; the engine builds its cache from its model
// config. Both must come to the same bytes (the CPU cache holds float32: twice the f16 figure).
TEST(Planner, KvBytesPerTokenMatchTheEngineCache) {
    for (const auto& path : {test::smollm2_path(), test::gemma3_path()}) {
        LLCUDA_REQUIRE_FILE(path);
        InferenceEngine engine;
        LoadOptions load;
        load.backend = Backend::Cpu;
        load.context_length = 64;
        engine.load_model(path, load);
        PlanRequest r;
        r.model = path;
        r.vram_gib = 2;
        const Plan p = plan_deployment(r);
        EXPECT_EQ(p.kv_bytes_per_token_f16 * 2, engine.model_info().kv_bytes_per_position) << path;
        EXPECT_EQ(p.kv_bytes_per_token_q8_0 * 32, p.kv_bytes_per_token_f16 / 2 * 34) << path;
    }
}

TEST(KvSize, OneRowOfKAndOneOfVPerLayer) {
    // SmolLM2-135M: 30 layers, 3 KV heads of 64.
    EXPECT_EQ(kv_cache_bytes_per_token(30, 3, 64, 64, GgmlType::F16, GgmlType::F16), 30u * 3 * (64 + 64) * 2);
    EXPECT_EQ(kv_cache_bytes_per_token(30, 3, 64, 64, GgmlType::F32, GgmlType::F32), 30u * 3 * (64 + 64) * 4);
    // q8_0: 34 bytes per block of 32; K and V may differ in type and head size.
    EXPECT_EQ(kv_cache_bytes_per_token(30, 3, 64, 64, GgmlType::Q8_0, GgmlType::Q8_0), 30u * 2 * (3 * 64 / 32) * 34);
    EXPECT_EQ(kv_cache_bytes_per_token(2, 1, 192, 128, GgmlType::F16, GgmlType::Q8_0), 2u * (192 * 2 + 128 / 32 * 34));
    // A row that is not a whole number of blocks cannot be stored in a block type.
    EXPECT_THROW(kv_cache_bytes_per_token(1, 1, 40, 40, GgmlType::Q8_0, GgmlType::Q8_0), Error);
}

TEST(Planner, WeightSizesAreTheCandidatesSizes) {
    LLCUDA_REQUIRE_FILE(test::gemma3_path());
    PlanRequest r;
    r.model = test::gemma3_path();
    r.vram_gib = 4;
    const Plan p = plan_deployment(r);
    const auto sizes = plan_weight_sizes(test::gemma3_path());
    ASSERT_EQ(sizes.size(), p.candidates.size());
    for (size_t i = 0; i < sizes.size(); ++i) {
        EXPECT_EQ(sizes[i].type, p.candidates[i].type);
        EXPECT_EQ(sizes[i].weight_bytes, p.candidates[i].weight_bytes);
    }
    for (const auto& s : sizes) EXPECT_NE(s.type, "F32");  // never worth its size for inference
}

// The case `llcuda quantize --dry-run` and `llcuda recommend` disagreed on before they shared the
// planner: Gemma-3-270M (262k-token vocabulary, 18 layers of one 256-wide KV head) in 0.7 GiB.
// Gemma-3-270M on small budgets: the recommendation is the most precise candidate that fits with
// the requested context (every more precise one does not), and its total stays inside the budget;
// a more generous budget never gets a less precise recommendation.
TEST(Planner, Gemma3OnSmallBudgets) {
    LLCUDA_REQUIRE_FILE(test::gemma3_path());
    for (double gib : {0.7, 0.9, 1.2}) {
        PlanRequest r;
        r.model = test::gemma3_path();
        r.vram_gib = gib;
        const Plan p = plan_deployment(r);
        if (p.recommended_type.empty()) {
            for (const auto& c : p.candidates) EXPECT_FALSE(c.fits) << gib << " GiB: " << c.type << " fits";
            continue;
        }
        EXPECT_LE(p.recommended_total_bytes, p.budget_bytes) << gib;
        EXPECT_GE(p.recommended_context, r.context) << gib;
        bool seen = false;
        for (const auto& c : p.candidates) {  // highest precision first
            if (c.type == p.recommended_type) {
                EXPECT_TRUE(c.fits) << gib;
                seen = true;
                break;
            }
        }
        EXPECT_TRUE(seen) << gib << " GiB: " << p.recommended_type << " is not a candidate";
    }
    auto rank = [](const Plan& p) {
        for (size_t i = 0; i < p.candidates.size(); ++i)
            if (p.candidates[i].type == p.recommended_type) return i;
        return p.candidates.size();
    };
    PlanRequest small;
    small.model = test::gemma3_path();
    small.vram_gib = 0.7;
    PlanRequest roomy = small;
    roomy.vram_gib = 1.2;
    const Plan a = plan_deployment(small), b = plan_deployment(roomy);
    EXPECT_FALSE(b.recommended_type.empty());
    EXPECT_LE(rank(b), rank(a)) << b.recommended_type << " at 1.2 GiB vs " << a.recommended_type << " at 0.7 GiB";
}

TEST(Planner, StrategyNames) {
    for (PlanStrategy s : {PlanStrategy::Aggressive, PlanStrategy::Balanced, PlanStrategy::Quality, PlanStrategy::Minimal}) {
        EXPECT_EQ(plan_strategy_from_name(plan_strategy_name(s)), s);
    }
    try {
        plan_strategy_from_name("fast");
        ADD_FAILURE() << "an unknown strategy was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
        EXPECT_NE(std::string(e.what()).find("'fast'"), std::string::npos) << e.what();
    }
}

TEST(Planner, RecommendationFitsAndNeverGetsWorseWithMoreMemory) {
    int previous_rank = 1 << 30;
    std::vector<std::string> order;
    PlanRequest base;
    base.n_params = 8'000'000'000ull;
    base.strategy = PlanStrategy::Quality;
    for (const auto& c : plan_deployment([&] { auto r = base; r.vram_gib = 1000; return r; }()).candidates) order.push_back(c.type);
    for (double gib : {4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 16.0, 24.0, 40.0, 80.0}) {
        PlanRequest r = base;
        r.vram_gib = gib;
        const Plan p = plan_deployment(r);
        if (p.recommended_type.empty()) continue;
        EXPECT_LE(p.recommended_total_bytes, p.budget_bytes) << gib;
        EXPECT_GE(p.recommended_context, r.context) << gib;
        const int rank = int(std::find(order.begin(), order.end(), p.recommended_type) - order.begin());
        EXPECT_LE(rank, previous_rank) << gib << " GiB recommends " << p.recommended_type;
        previous_rank = rank;
    }
    EXPECT_EQ(order.front(), "F16");
}

TEST(Planner, StrategiesRespectTheirCeilings) {
    PlanRequest r;
    r.n_params = 1'000'000'000ull;
    r.vram_gib = 80;
    r.strategy = PlanStrategy::Aggressive;
    EXPECT_EQ(plan_deployment(r).recommended_type, "Q4_K_M");
    EXPECT_EQ(plan_deployment(r).recommended_kv_type, "q8_0");
    r.strategy = PlanStrategy::Balanced;
    EXPECT_EQ(plan_deployment(r).recommended_type, "Q6_K");
    r.strategy = PlanStrategy::Quality;
    EXPECT_EQ(plan_deployment(r).recommended_type, "F16");
    r.strategy = PlanStrategy::Minimal;
    const Plan minimal = plan_deployment(r);
    for (const auto& c : minimal.candidates) EXPECT_GE(c.weight_bytes, candidate(minimal, minimal.recommended_type).weight_bytes);
}

TEST(Planner, TooLittleMemoryAndBadRequests) {
    PlanRequest r;
    r.n_params = 70'000'000'000ull;
    r.vram_gib = 8;
    const Plan p = plan_deployment(r);
    EXPECT_TRUE(p.recommended_type.empty());
    for (const auto& c : p.candidates) EXPECT_FALSE(c.fits);
    r.vram_gib = 0;
    EXPECT_THROW(plan_deployment(r), Error);
    PlanRequest none;
    none.vram_gib = 8;
    EXPECT_THROW(plan_deployment(none), Error);
    PlanRequest missing;
    missing.model = "/nonexistent.gguf";
    missing.vram_gib = 8;
    EXPECT_THROW(plan_deployment(missing), Error);
}

}  // namespace
}  // namespace llcuda
