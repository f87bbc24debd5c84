// VRAM planner: exact sizes against what llama-quantize really produced, KV sizes against the
// engine's cache shape, and the recommendation's properties (fits, monotonic, strategy ceilings).
#include <gtest/gtest.h>

#include "kv/paged_kv_cache.h"
#include "llcuda/error.h"
#include "llcuda/gguf.h"
#include "llcuda/planner.h"
#include "model/model_config.h"
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

TEST(Planner, KvBytesPerTokenMatchTheEngineCacheShape) {
    LLCUDA_REQUIRE_FILE(test::smollm2_path());
    const GgufFile f = GgufFile::open(test::smollm2_path());
    const ModelConfig c = read_model_config(f.contents());
    KvCacheShape shape;
    shape.n_layer = c.n_layer;
    shape.n_head_kv = c.n_head_kv;
    shape.head_dim_k = c.head_dim_k;
    shape.head_dim_v = c.head_dim_v;
    PlanRequest r;
    r.model = test::smollm2_path();
    r.vram_gib = 2;
    const Plan p = plan_deployment(r);
    EXPECT_EQ(p.kv_bytes_per_token_f16 * 2, shape.bytes_per_position());  // the CPU cache holds float32
    EXPECT_EQ(p.kv_bytes_per_token_q8_0 * 32, p.kv_bytes_per_token_f16 / 2 * 34);
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
