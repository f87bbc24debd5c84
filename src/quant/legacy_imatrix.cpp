// Importance-weighted legacy quantizers (see legacy_imatrix.h). Per element the weight is
// imatrix[col] * sqrt(sigma2 + x^2) with sigma2 = mean(x^2) over the whole row; the symmetric
// types then search the scale with make_qx_quants, the offset types with make_qkx_quants.
#include "quant/legacy_imatrix.h"

#include <cmath>
#include <cstring>

#include "quant/block_io.h"
#include "quant/blocks.h"
#include "quant/kquant_search.h"

namespace llcuda::quant {
namespace {

float row_sigma2(const float* x, int64_t n) {
    float sum_x2 = 0.0f;
    for (int64_t j = 0; j < n; ++j) sum_x2 += x[j] * x[j];
    return sum_x2 / float(n);
}

// weight[32] for block ib of the row.
void block_weights(const float* xb, const float* qw, float sigma2, float* weight) {
    for (int j = 0; j < kQK; ++j) weight[j] = qw[j] * std::sqrt(sigma2 + xb[j] * xb[j]);
}

// qs[j] = L[j] | L[j+16] << 4; bit 4 of each code into the LE u32 qh (if given).
template <class Code>
void pack(const Code* L, uint8_t* qs, uint8_t* qh) {
    uint32_t high = 0;
    for (int j = 0; j < 16; ++j) {
        qs[j] = uint8_t((L[j] & 0xF) | ((L[j + 16] & 0xF) << 4));
        high |= uint32_t((L[j] >> 4) & 1) << j;
        high |= uint32_t((L[j + 16] >> 4) & 1) << (j + 16);
    }
    if (qh) std::memcpy(qh, &high, 4);
}

template <class Block, int kNmax>
void symmetric(const float* x, uint8_t* y, int64_t n, const float* imatrix) {
    const float sigma2 = row_sigma2(x, n);
    encode_blocks<Block, kQK>(x, y, n, [&](const float* xb, Block& b, int64_t ib) {
        float weight[kQK];
        int8_t L[kQK];
        block_weights(xb, imatrix + kQK * ib, sigma2, weight);
        b.d = f32_to_f16(make_qx_quants(kQK, kNmax, xb, L, 1, weight));
        if constexpr (requires { b.qh; }) pack(L, b.qs, b.qh);
        else pack(L, b.qs, nullptr);
    });
}

template <class Block, int kNmax>
void with_offset(const float* x, uint8_t* y, int64_t n, const float* imatrix) {
    const float sigma2 = row_sigma2(x, n);
    encode_blocks<Block, kQK>(x, y, n, [&](const float* xb, Block& b, int64_t ib) {
        float weight[kQK];
        uint8_t L[kQK], laux[kQK];
        block_weights(xb, imatrix + kQK * ib, sigma2, weight);
        float min;
        const float d = make_qkx_quants(kQK, kNmax, xb, weight, L, &min, laux, -0.9f, 0.05f, 36, false);
        b.d = f32_to_f16(d);
        b.m = f32_to_f16(-min);
        if constexpr (requires { b.qh; }) pack(L, b.qs, b.qh);
        else pack(L, b.qs, nullptr);
    });
}

}  // namespace

void quantize_row_q4_0_imatrix(const float* x, uint8_t* y, int64_t n, const float* w) {
    symmetric<BlockQ4_0, 8>(x, y, n, w);
}
void quantize_row_q5_0_imatrix(const float* x, uint8_t* y, int64_t n, const float* w) {
    symmetric<BlockQ5_0, 16>(x, y, n, w);
}
void quantize_row_q4_1_imatrix(const float* x, uint8_t* y, int64_t n, const float* w) {
    with_offset<BlockQ4_1, 15>(x, y, n, w);
}
void quantize_row_q5_1_imatrix(const float* x, uint8_t* y, int64_t n, const float* w) {
    with_offset<BlockQ5_1, 31>(x, y, n, w);
}

}  // namespace llcuda::quant
