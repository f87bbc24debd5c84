// Quantized conversions. `convert --type Q4_K_M` must equal `convert --type F16` followed by the
// quant module's llama-quantize implementation (per-tensor mix rules included), byte for byte;
// Q8_0 weights must stay within Q8_0's rounding bound of the F32 conversion.
#include <cstring>

#include "convert_test_util.h"
#include "llcuda/convert.h"
#include "llcuda/gguf.h"
#include "llcuda/quantize.h"

namespace llcuda::test {
namespace {

class ConvertPreset : public ::testing::TestWithParam<const char*> {};

TEST_P(ConvertPreset, EqualsF16ThenQuantize) {
    const std::string model = GetParam();
    ScratchDir dir;
    ConvertOptions direct;
    direct.out_type = "Q4_K_M";
    convert_hf_to_gguf(convert_golden(model), dir / "direct.gguf", direct);
    ConvertOptions f16;
    f16.out_type = "F16";
    convert_hf_to_gguf(convert_golden(model), dir / "f16.gguf", f16);
    ModelQuantizeParams p;
    p.file_type = "Q4_K_M";
    quantize_model(dir / "f16.gguf", dir / "two_step.gguf", p);

    const GgufFile a = GgufFile::open(dir / "direct.gguf"), b = GgufFile::open(dir / "two_step.gguf");
    EXPECT_EQ(a.contents().get_u32("general.file_type"), b.contents().get_u32("general.file_type"));
    ASSERT_EQ(a.contents().tensors.size(), b.contents().tensors.size());
    size_t n_quantized = 0;
    for (const auto& t : a.contents().tensors) {
        const auto* u = b.contents().find_tensor(t.name);
        ASSERT_NE(u, nullptr) << t.name;
        EXPECT_EQ(ggml_type_name(t.type), std::string(ggml_type_name(u->type))) << t.name;
        const auto x = a.tensor_data(t), y = b.tensor_data(*u);
        ASSERT_EQ(x.size(), y.size()) << t.name;
        EXPECT_EQ(std::memcmp(x.data(), y.data(), x.size()), 0) << t.name << " differs";
        n_quantized += t.type != GgmlType::F32 && t.type != GgmlType::F16;
    }
    EXPECT_GT(n_quantized, 0u);
}

INSTANTIATE_TEST_SUITE_P(Archs, ConvertPreset, ::testing::Values("llama", "qwen3", "phi3"));

// Each Q8_0 block holds d = amax/127 (stored as f16) and codes round(x/d), |code| <= 127:
// |x - deq| <= d/2 + 127 * |d - f16(d)| <= d/2 + 127 * d * 2^-11.
TEST(ConvertQuantized, Q8_0WithinRoundingBound) {
    ScratchDir dir;
    ConvertOptions q8, f32;
    q8.out_type = "Q8_0";
    f32.out_type = "F32";
    convert_hf_to_gguf(convert_golden("qwen3"), dir / "q8.gguf", q8);
    convert_hf_to_gguf(convert_golden("qwen3"), dir / "f32.gguf", f32);
    const GgufFile a = GgufFile::open(dir / "q8.gguf"), b = GgufFile::open(dir / "f32.gguf");
    size_t n_q8 = 0;
    for (const auto& t : a.contents().tensors) {
        const auto* ref = b.contents().find_tensor(t.name);
        ASSERT_NE(ref, nullptr);
        std::vector<float> got(t.n_elements()), want(ref->n_elements());
        dequantize(t.type, a.tensor_data(t), got);
        dequantize(ref->type, b.tensor_data(*ref), want);
        if (t.type != GgmlType::Q8_0) {
            EXPECT_EQ(got, want) << t.name << " (not quantized) must be unchanged";
            continue;
        }
        ++n_q8;
        for (size_t blk = 0; blk < got.size() / 32; ++blk) {
            float amax = 0;
            for (size_t i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(want[blk * 32 + i]));
            const float d = amax / 127.0f;
            for (size_t i = 0; i < 32; ++i)
                ASSERT_LE(std::fabs(got[blk * 32 + i] - want[blk * 32 + i]), (0.5f + 127.0f / 2048.0f) * d + 1e-7f)
                    << t.name << " element " << blk * 32 + i;
        }
    }
    EXPECT_GT(n_q8, 0u);
}

}  // namespace
}  // namespace llcuda::test
