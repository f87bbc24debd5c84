// The traits table (see traits.h). Rows are listed by type id; ids ggml removed have no row.
#include "quant/traits.h"

#include <array>
#include <string>

#include <fmt/format.h>

#include "llcuda/error.h"
#include "quant/blocks.h"

namespace llcuda::quant {
namespace {

using T = GgmlType;

constexpr QuantTraits row(T type, uint32_t block_size, uint32_t type_size, DequantizeFn deq,
                          QuantizeRowFn q = nullptr, bool uses_imatrix = false) {
    return QuantTraits{type, block_size, type_size, deq, q, uses_imatrix};
}

constexpr std::array<QuantTraits, 35> kRows = {
    row(T::F32, 1, 4, dequantize_f32, quantize_row_f32),
    row(T::F16, 1, 2, dequantize_f16, quantize_row_f16),
    row(T::BF16, 1, 2, dequantize_bf16, quantize_row_bf16),
    row(T::F64, 1, 8, dequantize_f64),
    row(T::I8, 1, 1, dequantize_i8),
    row(T::I16, 1, 2, dequantize_i16),
    row(T::I32, 1, 4, dequantize_i32),
    row(T::I64, 1, 8, dequantize_i64),
    row(T::Q4_0, kQK, sizeof(BlockQ4_0), dequantize_q4_0, quantize_row_q4_0, true),
    row(T::Q4_1, kQK, sizeof(BlockQ4_1), dequantize_q4_1, quantize_row_q4_1, true),
    row(T::Q5_0, kQK, sizeof(BlockQ5_0), dequantize_q5_0, quantize_row_q5_0, true),
    row(T::Q5_1, kQK, sizeof(BlockQ5_1), dequantize_q5_1, quantize_row_q5_1, true),
    row(T::Q8_0, kQK, sizeof(BlockQ8_0), dequantize_q8_0, quantize_row_q8_0),
    row(T::Q8_1, kQK, sizeof(BlockQ8_1), dequantize_q8_1, quantize_row_q8_1),
    row(T::IQ4_NL, kQK, sizeof(BlockIQ4_NL), dequantize_iq4_nl, quantize_row_iq4_nl, true),
    row(T::MXFP4, kQK, sizeof(BlockMXFP4), dequantize_mxfp4, quantize_row_mxfp4),
    row(T::NVFP4, 64, sizeof(BlockNVFP4), dequantize_nvfp4, quantize_row_nvfp4),
    row(T::Q1_0, 128, sizeof(BlockQ1_0), dequantize_q1_0, quantize_row_q1_0),
    row(T::Q2_0, 64, sizeof(BlockQ2_0), dequantize_q2_0, quantize_row_q2_0),
    row(T::TQ1_0, kQK_K, sizeof(BlockTQ1_0), dequantize_tq1_0, quantize_row_tq1_0),
    row(T::TQ2_0, kQK_K, sizeof(BlockTQ2_0), dequantize_tq2_0, quantize_row_tq2_0),
    row(T::Q2_K, kQK_K, sizeof(BlockQ2_K), dequantize_q2_k, quantize_row_q2_k, true),
    row(T::Q3_K, kQK_K, sizeof(BlockQ3_K), dequantize_q3_k, quantize_row_q3_k, true),
    row(T::Q4_K, kQK_K, sizeof(BlockQ4_K), dequantize_q4_k, quantize_row_q4_k, true),
    row(T::Q5_K, kQK_K, sizeof(BlockQ5_K), dequantize_q5_k, quantize_row_q5_k, true),
    row(T::Q6_K, kQK_K, sizeof(BlockQ6_K), dequantize_q6_k, quantize_row_q6_k, true),
    row(T::Q8_K, kQK_K, sizeof(BlockQ8_K), dequantize_q8_k, quantize_row_q8_k),
    row(T::IQ2_XXS, kQK_K, sizeof(BlockIQ2_XXS), dequantize_iq2_xxs),
    row(T::IQ2_XS, kQK_K, sizeof(BlockIQ2_XS), dequantize_iq2_xs),
    row(T::IQ2_S, kQK_K, sizeof(BlockIQ2_S), dequantize_iq2_s),
    row(T::IQ3_XXS, kQK_K, sizeof(BlockIQ3_XXS), dequantize_iq3_xxs),
    row(T::IQ3_S, kQK_K, sizeof(BlockIQ3_S), dequantize_iq3_s),
    row(T::IQ1_S, kQK_K, sizeof(BlockIQ1_S), dequantize_iq1_s),
    row(T::IQ1_M, kQK_K, sizeof(BlockIQ1_M), dequantize_iq1_m),
    row(T::IQ4_XS, kQK_K, sizeof(BlockIQ4_XS), dequantize_iq4_xs, quantize_row_iq4_xs, true),
};

// Dense lookup by id, built once from the rows above (constant after construction).
struct Index {
    std::array<const QuantTraits*, kGgmlTypeCount> by_id{};
    Index() {
        for (const auto& r : kRows) by_id[uint32_t(r.type)] = &r;
    }
};

const Index& index() {
    static const Index instance;
    return instance;
}

}  // namespace

const QuantTraits* find_quant_traits(uint32_t type_id) {
    if (type_id >= kGgmlTypeCount) return nullptr;
    return index().by_id[type_id];
}

const QuantTraits& quant_traits(GgmlType type) {
    if (const QuantTraits* t = find_quant_traits(uint32_t(type))) return *t;
    const GgmlTypeInfo* info = ggml_type_info(uint32_t(type));
    throw Error(ErrorKind::Unsupported, info ? fmt::format("quant: no block routines for ggml type {}", info->name)
                                             : fmt::format("quant: unknown ggml type id {}", uint32_t(type)));
}

}  // namespace llcuda::quant
