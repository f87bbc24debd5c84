// Size planning against files llama-quantize wrote: the bytes planned for the file's own preset
// must equal the tensor data actually stored in the real models; the recommendation must pick
// the largest preset that fits and none when nothing does.
#include <gtest/gtest.h>

#include "llcuda/gguf.h"
#include "quant/size_plan.h"
#include "test_paths.h"

namespace llcuda::test {
namespace {

void expect_planned_equals_file(const std::filesystem::path& path) {
    const GgufFile file = GgufFile::open(path);
    const GgufContents& c = file.contents();
    uint64_t stored = 0;
    for (const auto& t : c.tensors) stored += t.n_bytes;
    const auto preset = quant::file_type_preset(std::to_string(c.get_u32("general.file_type")));
    ASSERT_TRUE(preset.has_value());
    EXPECT_EQ(quant::planned_weight_bytes(c, *preset, {}), stored);
}

TEST(QuantSizePlan, PlannedBytesMatchRealFiles) {
    LLCUDA_REQUIRE_FILE(gemma3_path());
    LLCUDA_REQUIRE_FILE(smollm2_path());
    expect_planned_equals_file(gemma3_path());
    expect_planned_equals_file(smollm2_path());
}

TEST(QuantSizePlan, RecommendationRespectsTheBudget) {
    LLCUDA_REQUIRE_FILE(gemma3_path());
    const GgufFile file = GgufFile::open(gemma3_path());
    const GgufContents& c = file.contents();
    // KV bytes grow linearly with the context; Q8_0 entries take 34/64 of the f16 bytes.
    const uint64_t kv = quant::kv_cache_bytes(c, 4096, GgmlType::F16);
    EXPECT_GT(kv, 0u);
    EXPECT_EQ(quant::kv_cache_bytes(c, 8192, GgmlType::F16), 2 * kv);
    EXPECT_EQ(quant::kv_cache_bytes(c, 4096, GgmlType::Q8_0) * 64, kv * 34);
    const uint64_t overhead = 64ull << 20;
    const auto generous = quant::fit_presets(c, 8ull << 30, 4096, GgmlType::F16, overhead);
    ASSERT_FALSE(generous.empty());
    for (size_t i = 1; i < generous.size(); ++i) EXPECT_GE(generous[i - 1].weight_bytes, generous[i].weight_bytes);
    const auto best = quant::recommend_preset(generous);
    ASSERT_TRUE(best.has_value());
    EXPECT_NE(best->preset.ftype, quant::FileType::ALL_F32);
    EXPECT_TRUE(best->fits);
    // A budget just above the Q4_K_M footprint must not recommend anything larger than it.
    const auto q4km = std::find_if(generous.begin(), generous.end(),
                                   [](const auto& f) { return f.preset.ftype == quant::FileType::MOSTLY_Q4_K_M; });
    ASSERT_NE(q4km, generous.end());
    const auto tight = quant::fit_presets(c, q4km->total_bytes, 4096, GgmlType::F16, overhead);
    const auto pick = quant::recommend_preset(tight);
    ASSERT_TRUE(pick.has_value());
    EXPECT_LE(pick->total_bytes, q4km->total_bytes);
    EXPECT_FALSE(quant::recommend_preset(quant::fit_presets(c, 1 << 20, 4096, GgmlType::F16, overhead)).has_value());
}

}  // namespace
}  // namespace llcuda::test
