// Our quantizers against ggml itself: tests/golden/quant/ggml_*.lqg hold the bytes that ggml's
// ggml_quantize_chunk (llama.cpp vendored in llama-cpp-python 0.3.36, built without SIMD/FMA;
// tests/oracles/quant_ggml_golden.py) produced for 30 rows of 512 values (Gaussian at several
// scales, zeros, constants, spikes, heavy tails, values on a grid), with and without an importance
// matrix (for the types that read one). Q8_1 goes through ggml's from_float_ref (an activation
// type ggml_quantize_chunk does not take). Byte-identical output is required, block by block.
#include <gtest/gtest.h>

#include "golden.h"
#include "llcuda/quantize.h"
#include "test_paths.h"

namespace llcuda::test {
namespace {

class QuantizeMatchesGgml : public ::testing::TestWithParam<const char*> {};

TEST_P(QuantizeMatchesGgml, ByteIdentical) {
    const auto records = read_golden(golden_dir() / "quant" / (std::string("ggml_") + GetParam() + ".lqg"));
    ASSERT_FALSE(records.empty());
    for (const auto& rec : records) {
        SCOPED_TRACE(rec.name);
        const auto type = GgmlType(uint32_t(rec.meta.at(0)));
        const uint64_t n_per_row = rec.meta.at(1), n_rows = rec.meta.at(2);
        const bool with_imatrix = rec.meta.at(3) != 0;
        const std::span<const float> x(rec.floats.data(), n_per_row * n_rows);
        QuantizeOptions options;
        options.n_threads = 2;
        if (with_imatrix) options.imatrix = std::span(rec.floats).subspan(n_per_row * n_rows, n_per_row);
        const auto out = quantize(type, x, n_per_row, options);
        ASSERT_EQ(out.size(), rec.bytes.size());
        const auto& info = ggml_type_info(type);
        size_t bad_blocks = 0;
        for (size_t b = 0; b < out.size() / info.type_size; ++b) {
            const size_t off = b * info.type_size;
            if (!std::equal(out.begin() + off, out.begin() + off + info.type_size, rec.bytes.begin() + off)) {
                if (bad_blocks++ < 3) {
                    size_t k = 0;
                    while (out[off + k] == rec.bytes[off + k]) ++k;
                    ADD_FAILURE() << "row " << b * info.block_size / n_per_row << " block " << b << " byte " << k
                                  << ": got " << int(out[off + k]) << ", ggml " << int(rec.bytes[off + k]);
                }
            }
        }
        EXPECT_EQ(bad_blocks, 0u) << "of " << out.size() / info.type_size << " blocks";
    }
}

INSTANTIATE_TEST_SUITE_P(Types, QuantizeMatchesGgml,
                         ::testing::Values("q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q2_k", "q3_k", "q4_k", "q5_k",
                                           "q6_k", "iq4_nl", "iq4_xs", "tq1_0", "tq2_0", "mxfp4", "nvfp4",
                                           "q1_0", "q2_0", "q8_1"));

}  // namespace
}  // namespace llcuda::test
