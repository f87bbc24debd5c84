// Dequantization of random blocks of every ggml type against the oracle values in
// tests/golden/quant/dequant_*.lqg (gguf-py's numpy dequantizers; numpy casts for the plain
// integer/f64 types; a transcription of ggml's layouts for the 4 types gguf 0.19 lacks). Bit-exact:
// our decoders evaluate the same float32 products in the same order, so no tolerance is needed.
#include <gtest/gtest.h>

#include <set>

#include "golden.h"
#include "llcuda/quantize.h"
#include "test_paths.h"

namespace llcuda::test {
namespace {

std::vector<std::filesystem::path> dequant_files() {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(golden_dir() / "quant"))
        if (e.path().filename().string().starts_with("dequant_")) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
}

TEST(QuantDequantGolden, EveryTypeMatchesOracleBitExact) {
    std::set<uint32_t> covered;
    for (const auto& file : dequant_files()) {
        for (const auto& rec : read_golden(file)) {
            SCOPED_TRACE(rec.name);
            const auto type = GgmlType(uint32_t(rec.meta.at(0)));
            ASSERT_TRUE(can_dequantize(type));
            ASSERT_EQ(rec.meta.at(1), rec.floats.size());
            std::vector<float> out(rec.floats.size(), -12345.0f);
            dequantize(type, rec.bytes, out);
            size_t mismatches = 0;
            for (size_t i = 0; i < out.size(); ++i) {
                if (float_bits(out[i]) != float_bits(rec.floats[i]) && mismatches++ < 5)
                    ADD_FAILURE() << "element " << i << ": got " << out[i] << " expected " << rec.floats[i];
            }
            EXPECT_EQ(mismatches, 0u);
            covered.insert(uint32_t(type));
        }
    }
    // Every type with a dequantizer must have a golden file: the suite cannot silently shrink.
    for (uint32_t id = 0; id < kGgmlTypeCount; ++id) {
        if (ggml_type_info(id) && can_dequantize(GgmlType(id))) {
            EXPECT_TRUE(covered.count(id)) << "no golden data for " << ggml_type_info(id)->name;
        }
    }
    EXPECT_GE(covered.size(), 35u);
}

// A slice of a row decodes to the same values as the matching slice of the whole row.
TEST(QuantDequantGolden, BlockRangesAreIndependent) {
    for (const auto& file : dequant_files()) {
        for (const auto& rec : read_golden(file)) {
            const auto type = GgmlType(uint32_t(rec.meta.at(0)));
            const auto& info = ggml_type_info(type);
            const size_t n_blocks = rec.floats.size() / info.block_size;
            if (n_blocks < 3) continue;
            const size_t first = 1, count = n_blocks - 2;
            std::vector<float> out(count * info.block_size);
            dequantize(type, std::span(rec.bytes).subspan(first * info.type_size, count * info.type_size), out);
            for (size_t i = 0; i < out.size(); ++i)
                ASSERT_EQ(float_bits(out[i]), float_bits(rec.floats[first * info.block_size + i]))
                    << rec.name << " element " << i;
        }
    }
}

}  // namespace
}  // namespace llcuda::test
