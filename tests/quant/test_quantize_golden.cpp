// Quantizers with a reference in gguf-py (numpy ports of ggml's *_ref routines): our output must be
// byte-identical to tests/golden/quant/quantize_*.lqg on Gaussian rows and edge cases (zeros,
// constants, exact ties, spikes, huge/tiny magnitudes). Also: results do not depend on threads.
#include <gtest/gtest.h>

#include "golden.h"
#include "llcuda/quantize.h"
#include "test_paths.h"

namespace llcuda::test {
namespace {

class QuantizeGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(QuantizeGolden, ByteIdenticalToGgufPy) {
    const auto records = read_golden(golden_dir() / "quant" / (std::string("quantize_") + GetParam() + ".lqg"));
    ASSERT_EQ(records.size(), 1u);
    const auto& rec = records[0];
    const auto type = GgmlType(uint32_t(rec.meta.at(0)));
    const uint64_t n_per_row = rec.meta.at(1), n_rows = rec.meta.at(2);
    ASSERT_EQ(rec.floats.size(), n_per_row * n_rows);
    const uint64_t row_bytes = ggml_row_bytes(type, n_per_row);
    for (unsigned threads : {1u, 3u}) {
        QuantizeOptions options;
        options.n_threads = threads;
        const auto out = quantize(type, rec.floats, n_per_row, options);
        ASSERT_EQ(out.size(), rec.bytes.size());
        for (uint64_t r = 0; r < n_rows; ++r) {
            for (uint64_t i = 0; i < row_bytes; ++i) {
                const uint64_t k = r * row_bytes + i;
                ASSERT_EQ(int(out[k]), int(rec.bytes[k]))
                    << rec.name << " row " << r << " byte " << i << " (threads " << threads << ")";
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Types, QuantizeGolden,
                         ::testing::Values("f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "tq1_0",
                                           "tq2_0", "mxfp4"));

}  // namespace
}  // namespace llcuda::test
