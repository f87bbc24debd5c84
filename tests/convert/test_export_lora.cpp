// `llcuda export`: PEFT adapters merged by llcuda give the logits of PEFT's own merge_and_unload
// (golden from tests/oracles/convert_golden.py), whether the base is the HF directory or a GGUF;
// the llama.cpp LoRA GGUF (--lora-only) reproduces the same merged weights.
#include <fmt/format.h>

#include "convert_test_util.h"
#include "llcuda/convert.h"
#include "llcuda/gguf.h"
#include "llcuda/quantize.h"

namespace llcuda::test {
namespace {

struct LoraCase {
    const char* base;
    const char* adapter;
};

class ExportLora : public ::testing::TestWithParam<LoraCase> {};

double run_and_compare(const std::filesystem::path& gguf, const std::string& adapter) {
    const auto golden = load_json(convert_golden(adapter + "_logits.json"));
    return max_abs_diff(engine_log_softmax(gguf, golden_tokens(golden)), golden);
}

TEST_P(ExportLora, HfBaseMatchesPeftMerge) {
    const LoraCase c = GetParam();
    ScratchDir dir;
    ExportOptions o;
    o.out_type = "F32";
    const auto report = export_lora(convert_golden(c.base), convert_golden(c.adapter), dir / "m.gguf", o);
    EXPECT_GT(report.n_merged_lora, 0u);
    const double diff = run_and_compare(dir / "m.gguf", c.adapter);
    std::printf("[ export  ] %-10s HF base   max |d log-softmax| = %.3g\n", c.adapter, diff);
    EXPECT_LT(diff, 2e-3);
    // The unmerged base must be clearly different, or the comparison proves nothing.
    ConvertOptions plain;
    plain.out_type = "F32";
    convert_hf_to_gguf(convert_golden(c.base), dir / "base.gguf", plain);
    EXPECT_GT(run_and_compare(dir / "base.gguf", c.adapter), 0.05);
}

TEST_P(ExportLora, GgufBaseMatchesPeftMerge) {
    const LoraCase c = GetParam();
    ScratchDir dir;
    ConvertOptions plain;
    plain.out_type = "F32";
    convert_hf_to_gguf(convert_golden(c.base), dir / "base.gguf", plain);
    const auto report = export_lora(dir / "base.gguf", convert_golden(c.adapter), dir / "m.gguf");
    EXPECT_GT(report.n_merged_lora, 0u);
    const double diff = run_and_compare(dir / "m.gguf", c.adapter);
    std::printf("[ export  ] %-10s GGUF base max |d log-softmax| = %.3g\n", c.adapter, diff);
    EXPECT_LT(diff, 2e-3);
}

// W_base + (alpha/r) * B·A from the LoRA GGUF, computed as llama.cpp does at runtime, equals the
// merged export's weight for every target tensor.
TEST_P(ExportLora, LoraOnlyGgufReproducesMerge) {
    const LoraCase c = GetParam();
    ScratchDir dir;
    ExportOptions o;
    o.out_type = "F32";
    export_lora(convert_golden(c.base), convert_golden(c.adapter), dir / "merged.gguf", o);
    convert_hf_to_gguf(convert_golden(c.base), dir / "base.gguf", o);
    o.lora_only = true;
    export_lora(convert_golden(c.base), convert_golden(c.adapter), dir / "lora.gguf", o);
    const GgufFile lora = GgufFile::open(dir / "lora.gguf"), base = GgufFile::open(dir / "base.gguf"),
                   merged = GgufFile::open(dir / "merged.gguf");
    EXPECT_EQ(lora.contents().get_string("general.type"), "adapter");
    EXPECT_EQ(lora.contents().get_string("adapter.type"), "lora");
    const float alpha = lora.contents().get_f32("adapter.lora.alpha");
    size_t n_checked = 0;
    for (const auto& t : lora.contents().tensors) {
        if (!t.name.ends_with(".lora_a")) continue;
        const std::string w = t.name.substr(0, t.name.size() - 7);
        const auto* tb = lora.contents().find_tensor(w + ".lora_b");
        const auto* tw = base.contents().find_tensor(w);
        ASSERT_TRUE(tb && tw) << w;
        // llama.cpp's shape checks (docs/checkpoint-formats.md §llama.cpp LoRA GGUF).
        ASSERT_EQ(tw->ne[0], t.ne[0]);
        ASSERT_EQ(tw->ne[1], tb->ne[1]);
        ASSERT_EQ(t.ne[1], tb->ne[0]);
        const uint64_t in = t.ne[0], r = t.ne[1], out = tb->ne[1];
        const float* A = reinterpret_cast<const float*>(lora.tensor_data(t).data());     // [r, in]
        const float* B = reinterpret_cast<const float*>(lora.tensor_data(*tb).data());   // [out, r]
        const float* W = reinterpret_cast<const float*>(base.tensor_data(*tw).data());   // [out, in]
        const float* M = reinterpret_cast<const float*>(merged.tensor_data(w).data());   // [out, in]
        const float scale = alpha / float(r);
        double worst = 0;
        for (uint64_t i = 0; i < out; ++i)
            for (uint64_t j = 0; j < in; ++j) {
                double acc = 0;
                for (uint64_t k = 0; k < r; ++k) acc += double(B[i * r + k]) * A[k * in + j];
                worst = std::max(worst, std::fabs(W[i * in + j] + scale * acc - M[i * in + j]));
            }
        EXPECT_LT(worst, 1e-4) << w;
        ++n_checked;
    }
    EXPECT_GT(n_checked, 0u);
}

INSTANTIATE_TEST_SUITE_P(Adapters, ExportLora,
                         ::testing::Values(LoraCase{"llama", "lora_llama"}, LoraCase{"qwen3", "lora_qwen3"},
                                           LoraCase{"llama_bnb4", "lora_llama_bnb4"}),
                         [](const auto& info) { return std::string(info.param.adapter); });

}  // namespace
}  // namespace llcuda::test
