// The whole `llcuda quantize` pipeline on a real model: SmolLM2's Q4_1 weights re-quantized to
// Q8_0 and Q4_0 must give, tensor for tensor, the bytes gguf-py produces for the same
// dequantize -> quantize chain (checksums in tests/golden/quant/requant_smollm2.lqg); tensors whose
// type does not change are copied byte for byte; metadata gets general.file_type and
// general.quantization_version last; with an importance matrix the bytes equal ggml's; bad
// requests raise llcuda::Error.
#include <gtest/gtest.h>

#include <unistd.h>

#include "golden.h"
#include "llcuda/error.h"
#include "llcuda/gguf.h"
#include "llcuda/quantize.h"
#include "test_paths.h"

namespace llcuda::test {
namespace {

uint64_t byte_checksum(std::span<const uint8_t> b) {
    uint64_t sum = 0;
    for (size_t i = 0; i < b.size(); ++i) sum += uint64_t(b[i]) * (2 * i + 1);
    return sum;
}

std::filesystem::path temp_file(const std::string& name) {
    return std::filesystem::temp_directory_path() / ("llcuda-quant-" + std::to_string(getpid()) + "-" + name);
}

void requantize_and_check(const char* preset, GgmlType type, uint32_t ftype) {
    const auto out = temp_file(std::string(preset) + ".gguf");
    ModelQuantizeParams params;
    params.file_type = preset;
    params.allow_requantize = true;
    params.n_threads = 2;
    const auto report = quantize_model(smollm2_path(), out, params);
    EXPECT_EQ(report.file_type, ftype);

    const GgufFile src = GgufFile::open(smollm2_path());
    const GgufFile dst = GgufFile::open(out);
    const GgufContents& c = dst.contents();
    EXPECT_EQ(c.get_u32("general.file_type"), ftype);
    ASSERT_GE(c.kvs.size(), 2u);
    EXPECT_EQ(c.kvs[c.kvs.size() - 2].key, "general.quantization_version");
    EXPECT_EQ(c.kvs.back().key, "general.file_type");
    EXPECT_EQ(c.tensors.size(), src.contents().tensors.size());
    EXPECT_EQ(c.get_string("tokenizer.ggml.model"), src.contents().get_string("tokenizer.ggml.model"));

    int checked = 0;
    for (const auto& rec : read_golden(golden_dir() / "quant" / "requant_smollm2.lqg")) {
        if (rec.meta.at(0) != uint32_t(type)) continue;
        const std::string name = rec.name.substr(rec.name.find('/') + 1);
        const GgufTensorInfo* info = c.find_tensor(name);
        ASSERT_NE(info, nullptr) << name;
        EXPECT_EQ(info->type, type) << name;
        const auto bytes = dst.tensor_data(*info);
        ASSERT_EQ(bytes.size(), rec.meta.at(2)) << name;
        EXPECT_EQ(byte_checksum(bytes), rec.meta.at(1)) << name;
        ++checked;
    }
    EXPECT_EQ(checked, 3);
    // Unchanged tensors (norms; token_embd, already Q8_0 and kept by the tied-output rule) are copies.
    for (const char* name : {"blk.0.attn_norm.weight", "output_norm.weight", "token_embd.weight"}) {
        const auto a = src.tensor_data(name), b = dst.tensor_data(name);
        ASSERT_EQ(a.size(), b.size()) << name;
        EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin())) << name;
    }
    std::filesystem::remove(out);
}

TEST(QuantizeModel, SmolLM2RequantQ8_0MatchesGgufPy) {
    LLCUDA_REQUIRE_FILE(smollm2_path());
    requantize_and_check("Q8_0", GgmlType::Q8_0, 7);
}

TEST(QuantizeModel, SmolLM2RequantQ4_0MatchesGgufPy) {
    LLCUDA_REQUIRE_FILE(smollm2_path());
    requantize_and_check("q4_0", GgmlType::Q4_0, 2);
}

// tests/golden/quant/smollm2_imatrix.gguf (gguf-py writer, llama-imatrix layout) and its legacy
// .dat twin hold entries for two tensors; their bytes must equal ggml's ggml_quantize_chunk with
// that imatrix (requant_smollm2_imatrix.lqg, from tests/oracles/quant_ggml_golden.py).
void check_imatrix_requant(const char* imatrix_file) {
    const auto out = temp_file(std::string("q4km-") + imatrix_file);
    ModelQuantizeParams params;
    params.file_type = "Q4_K_M";
    params.allow_requantize = true;
    params.imatrix = golden_dir() / "quant" / imatrix_file;
    const auto report = quantize_model(smollm2_path(), out, params);
    int with_imatrix = 0;
    for (const auto& t : report.tensors) with_imatrix += t.used_imatrix;
    EXPECT_EQ(with_imatrix, 2);

    const GgufFile dst = GgufFile::open(out);
    const GgufContents& c = dst.contents();
    EXPECT_EQ(c.get_string("quantize.imatrix.file"), imatrix_file);
    EXPECT_EQ(c.get_string("quantize.imatrix.dataset"), "llcuda-test-random");
    EXPECT_EQ(c.get_u32("quantize.imatrix.entries_count"), 2u);
    EXPECT_EQ(c.get_u32("quantize.imatrix.chunks_count"), 7u);
    EXPECT_EQ(c.get_u32("general.file_type"), 15u);
    int checked = 0;
    for (const auto& rec : read_golden(golden_dir() / "quant" / "requant_smollm2_imatrix.lqg")) {
        const GgufTensorInfo* info = c.find_tensor(rec.name);
        ASSERT_NE(info, nullptr) << rec.name;
        EXPECT_EQ(uint32_t(info->type), rec.meta.at(0)) << rec.name;
        const auto bytes = dst.tensor_data(*info);
        ASSERT_EQ(bytes.size(), rec.meta.at(2)) << rec.name;
        EXPECT_EQ(byte_checksum(bytes), rec.meta.at(1)) << rec.name;
        ++checked;
    }
    EXPECT_EQ(checked, 2);
    std::filesystem::remove(out);
}

TEST(QuantizeModel, SmolLM2Q4_K_MWithGgufImatrixMatchesGgml) {
    LLCUDA_REQUIRE_FILE(smollm2_path());
    check_imatrix_requant("smollm2_imatrix.gguf");
}

TEST(QuantizeModel, SmolLM2Q4_K_MWithLegacyDatImatrixMatchesGgml) {
    LLCUDA_REQUIRE_FILE(smollm2_path());
    check_imatrix_requant("smollm2_imatrix.dat");
}

TEST(QuantizeModel, BadRequestsRaiseErrors) {
    LLCUDA_REQUIRE_FILE(smollm2_path());
    const auto out = temp_file("bad.gguf");
    ModelQuantizeParams params;
    params.file_type = "Q4_K_M";
    // already-quantized source without --allow-requantize
    EXPECT_THROW(quantize_model(smollm2_path(), out, params), Error);
    params.file_type = "Q7_X";
    EXPECT_THROW(quantize_model(smollm2_path(), out, params), Error);
    params.file_type = "Q8_0";
    params.imatrix = temp_file("does-not-exist.dat");
    EXPECT_THROW(quantize_model(smollm2_path(), out, params), Error);
    EXPECT_FALSE(std::filesystem::exists(out));  // nothing half-written is left behind
}

}  // namespace
}  // namespace llcuda::test
