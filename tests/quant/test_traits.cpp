// The quant traits table against the independent ggml type table (include/llcuda/ggml_type.h),
// and the error contract of the public API (bad sizes and types raise llcuda::Error).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "llcuda/error.h"
#include "llcuda/quantize.h"
#include "quant/traits.h"

namespace llcuda::test {
namespace {

TEST(QuantTraits, RowsAgreeWithGgmlTypeTable) {
    int rows = 0;
    for (uint32_t id = 0; id < kGgmlTypeCount + 4; ++id) {
        const quant::QuantTraits* t = quant::find_quant_traits(id);
        const GgmlTypeInfo* info = ggml_type_info(id);
        if (!info) {
            EXPECT_EQ(t, nullptr) << "row for removed/invalid id " << id;
            continue;
        }
        ASSERT_NE(t, nullptr) << "no traits row for " << info->name;
        EXPECT_EQ(uint32_t(t->type), id);
        EXPECT_EQ(t->block_size, info->block_size) << info->name;
        EXPECT_EQ(t->type_size, info->type_size) << info->name;
        EXPECT_NE(t->dequantize, nullptr) << info->name;
        ++rows;
    }
    EXPECT_EQ(rows, 35);
}

TEST(QuantTraits, QuantizableTypes) {
    for (auto type : {GgmlType::F32, GgmlType::F16, GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1,
                      GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q2_K, GgmlType::Q3_K,
                      GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::IQ4_NL, GgmlType::IQ4_XS,
                      GgmlType::TQ1_0, GgmlType::TQ2_0, GgmlType::MXFP4, GgmlType::NVFP4, GgmlType::Q1_0,
                      GgmlType::Q2_0, GgmlType::Q8_1, GgmlType::Q8_K})
        EXPECT_TRUE(can_quantize(type)) << ggml_type_name(type);
    EXPECT_FALSE(can_quantize(GgmlType::IQ2_XXS));
    EXPECT_TRUE(quantize_uses_imatrix(GgmlType::Q4_K));
    EXPECT_FALSE(quantize_uses_imatrix(GgmlType::Q8_0));
}

template <class F>
void expect_error(ErrorKind kind, F&& f) {
    try {
        f();
        ADD_FAILURE() << "no error thrown";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), kind) << e.what();
        EXPECT_GT(std::string(e.what()).size(), 10u);
    }
}

TEST(QuantErrors, BadInputRaisesError) {
    std::vector<float> f(256);
    std::vector<uint8_t> b(144);
    // element count not a whole number of blocks
    expect_error(ErrorKind::InvalidArgument, [&] { dequantize(GgmlType::Q4_K, b, std::span(f).first(255)); });
    // byte count wrong for the element count
    expect_error(ErrorKind::InvalidArgument, [&] { dequantize(GgmlType::Q4_K, std::span(b).first(143), f); });
    // removed type id
    expect_error(ErrorKind::Unsupported, [&] { dequantize(GgmlType(4), b, f); });
    expect_error(ErrorKind::Unsupported, [&] { dequantize(GgmlType(99), b, f); });
    // a type we can read but not write
    expect_error(ErrorKind::Unsupported, [&] { (void)quantize(GgmlType::IQ2_XXS, f, 256); });
    // row length not a multiple of the block
    expect_error(ErrorKind::InvalidArgument, [&] { (void)quantize(GgmlType::Q4_K, f, 128); });
    // src not a whole number of rows
    expect_error(ErrorKind::InvalidArgument, [&] { (void)quantize(GgmlType::Q8_0, std::span(f).first(100), 64); });
    // wrong destination size
    expect_error(ErrorKind::InvalidArgument, [&] { quantize(GgmlType::Q4_K, f, 256, std::span(b).first(100)); });
    // importance matrix of the wrong length
    std::vector<float> imatrix(128, 1.0f);
    QuantizeOptions options;
    options.imatrix = imatrix;
    expect_error(ErrorKind::InvalidArgument, [&] { (void)quantize(GgmlType::Q4_K, f, 256, options); });
    // non-finite input values and importance weights
    std::vector<float> nan_row(256, 1.0f);
    nan_row[77] = std::nanf("");
    expect_error(ErrorKind::InvalidArgument, [&] { (void)quantize(GgmlType::Q8_0, nan_row, 256); });
    nan_row[77] = INFINITY;
    expect_error(ErrorKind::InvalidArgument, [&] { (void)quantize(GgmlType::Q4_K, nan_row, 256); });
    std::vector<float> bad_imatrix(256, 1.0f);
    bad_imatrix[3] = -1.0f;
    options.imatrix = bad_imatrix;
    expect_error(ErrorKind::InvalidArgument, [&] { (void)quantize(GgmlType::Q4_K, f, 256, options); });
    // the float types keep non-finite values (as ggml does)
    EXPECT_NO_THROW((void)quantize(GgmlType::F16, nan_row, 256));
}

}  // namespace
}  // namespace llcuda::test
