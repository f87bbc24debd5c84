// Size planning against files llama-quantize wrote: the bytes planned for the file's own preset
// must equal the tensor data actually stored in the real models. Budgets and the KV cache are the
// VRAM planner's (tests/planner).
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

}  // namespace
}  // namespace llcuda::test
