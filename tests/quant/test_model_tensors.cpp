// Dequantization of real model tensors (read through the GGUF reader) against gguf-py: selected
// rows bit-exact, and a bit checksum over every dequantized value of whole tensors
// (tests/golden/quant/model_*.lqg, written by tests/oracles/quant_golden.py).
#include <gtest/gtest.h>

#include "golden.h"
#include "llcuda/gguf.h"
#include "llcuda/quantize.h"
#include "test_paths.h"

namespace llcuda::test {
namespace {

void check_model(const std::filesystem::path& model, const char* golden_name) {
    const auto records = read_golden(golden_dir() / "quant" / golden_name);
    const GgufFile file = GgufFile::open(model);
    for (const auto& rec : records) {
        SCOPED_TRACE(rec.name);
        const GgufTensorInfo* info = file.contents().find_tensor(rec.name);
        ASSERT_NE(info, nullptr);
        const auto type = GgmlType(uint32_t(rec.meta.at(0)));
        const uint64_t ne0 = rec.meta.at(1), n_rows = rec.meta.at(2), whole = rec.meta.at(3);
        const uint64_t checksum = rec.meta.at(4), n_picked = rec.meta.at(5);
        ASSERT_EQ(info->type, type);
        ASSERT_EQ(info->ne[0], ne0);
        ASSERT_EQ(info->n_elements(), ne0 * n_rows);
        const auto data = file.tensor_data(*info);
        const uint64_t row_bytes = ggml_row_bytes(type, ne0);
        ASSERT_EQ(data.size(), row_bytes * n_rows);

        std::vector<float> row(ne0);
        for (uint64_t k = 0; k < n_picked; ++k) {
            const uint64_t r = rec.meta.at(6 + k);
            dequantize(type, data.subspan(r * row_bytes, row_bytes), row);
            for (uint64_t i = 0; i < ne0; ++i)
                ASSERT_EQ(float_bits(row[i]), float_bits(rec.floats[k * ne0 + i])) << "row " << r << " col " << i;
        }
        if (whole) {
            std::vector<float> all(ne0 * n_rows);
            dequantize(type, data, all);
            EXPECT_EQ(bit_checksum(all.data(), all.size()), checksum);
        }
    }
}

TEST(QuantModelTensors, SmolLM2Q4_1) {
    LLCUDA_REQUIRE_FILE(smollm2_path());
    check_model(smollm2_path(), "model_smollm2.lqg");
}

TEST(QuantModelTensors, Gemma3Q4_K_M) {
    LLCUDA_REQUIRE_FILE(gemma3_path());
    check_model(gemma3_path(), "model_gemma3.lqg");
}

}  // namespace
}  // namespace llcuda::test
