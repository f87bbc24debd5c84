// End to end: convert each tiny transformers checkpoint (tests/oracles/convert_golden.py), run it
// on the CPU engine and compare the log-softmax with transformers' own for the same tokens.
#include <fmt/format.h>

#include "convert_test_util.h"
#include "llcuda/convert.h"

namespace llcuda::test {
namespace {

struct Case {
    const char* model;     // golden checkpoint directory
    const char* out_type;  // converter --type
    double tolerance;      // max |Δ log-prob| allowed
};

class ConvertLogits : public ::testing::TestWithParam<Case> {};

TEST_P(ConvertLogits, MatchesTransformers) {
    const Case c = GetParam();
    ScratchDir dir;
    const auto out = dir / "model.gguf";
    ConvertOptions options;
    options.out_type = c.out_type;
    const ConvertReport report = convert_hf_to_gguf(convert_golden(c.model), out, options);
    ASSERT_TRUE(std::filesystem::exists(out));
    const auto golden = load_json(convert_golden(std::string(c.model) + "_logits.json"));
    const double diff = max_abs_diff(engine_log_softmax(out, golden_tokens(golden)), golden);
    std::printf("[ convert ] %-8s %-6s (%s) max |d log-softmax| = %.3g\n", c.model, c.out_type,
                report.architecture.c_str(), diff);
    EXPECT_LT(diff, c.tolerance) << c.model << " " << c.out_type;
}

// Exact source types (bf16->BF16, f16->F16, f32->F32) leave only float accumulation differences.
// F16 (from f32) and Q8_0 add rounding error: their bounds are loose (an unconverted or mis-laid-out
// model differs by whole units, see test_export_lora's base check); test_convert_quantized checks
// the quantized weights themselves.
INSTANTIATE_TEST_SUITE_P(Archs, ConvertLogits,
                         ::testing::Values(Case{"llama", "F32", 2e-3}, Case{"mistral", "auto", 2e-3},
                                           Case{"qwen2", "auto", 2e-3}, Case{"qwen3", "auto", 2e-3},
                                           Case{"gemma3", "auto", 2e-3}, Case{"phi3", "auto", 2e-3},
                                           Case{"llama_bnb4", "F32", 2e-3}, Case{"llama3rope", "auto", 2e-3}, Case{"llama", "F16", 2e-2}, Case{"qwen3", "Q8_0", 0.3}),
                         [](const auto& info) {
                             return fmt::format("{}_{}", info.param.model, info.param.out_type);
                         });

}  // namespace
}  // namespace llcuda::test
