// IQ4_NL and IQ4_XS quantizers (docs/block-formats.md §Reference quantizers): 4-bit indices into the non-linear table
// kIq4nlValues with a per-32 scale found by weighted least squares over 15 candidate scales.
// IQ4_XS then stores the 8 per-32 scales as 6-bit integers under one f16 super-scale.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/block_io.h"
#include "quant/blocks.h"
#include "quant/kquant_search.h"
#include "quant/traits.h"

namespace llcuda::quant {
namespace {

constexpr int kNtry = 7;  // candidate scales (t - 127) / max for t = -7..7, as llama-quantize uses

// Best scale for one block of 32 (codes written to L); 0 for an all-zero block.
float iq4_block_scale(const float* xb, const float* weight, uint8_t* L) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK; ++j) {
        if (std::fabs(xb[j]) > amax) {
            amax = std::fabs(xb[j]);
            max = xb[j];
        }
    }
    if (amax < kGroupMaxEps) {
        std::fill(L, L + kQK, uint8_t(0));
        return 0.0f;
    }
    const int8_t* values = kIq4nlValues;
    auto fit = [&](float id, uint8_t* codes, float& sumqx, float& sumq2) {
        sumqx = sumq2 = 0.0f;
        for (int j = 0; j < kQK; ++j) {
            const int l = best_index_int8(16, values, id * xb[j]);
            if (codes) codes[j] = uint8_t(l);
            const float q = float(values[l]);
            sumqx += weight[j] * q * xb[j];
            sumq2 += weight[j] * q * q;
        }
    };
    float sumqx, sumq2;
    fit(1.0f / (-max / float(values[0])), L, sumqx, sumq2);
    float d = sumqx / sumq2;
    float best = d * sumqx;
    for (int itry = -kNtry; itry <= kNtry; ++itry) {
        fit((float(itry) + float(values[0])) / max, nullptr, sumqx, sumq2);
        if (sumq2 > 0.0f && sumqx * sumqx > best * sumq2) {
            d = sumqx / sumq2;
            best = d * sumqx;
        }
    }
    return d;
}

// Per-element weights of a block: imatrix * sqrt(sigma2 + x^2), or x^2 without an imatrix.
void iq4_weights(const float* xb, const float* qw, float sigma2, float* weight) {
    for (int j = 0; j < kQK; ++j)
        weight[j] = qw ? qw[j] * std::sqrt(sigma2 + xb[j] * xb[j]) : xb[j] * xb[j];
}

float sigma2_of(const float* x, int n) {
    float s = 0.0f;
    for (int j = 0; j < n; ++j) s += x[j] * x[j];
    return s * (2.0f / float(n));
}

void pack_nibbles32(const uint8_t* L, uint8_t* qs) {
    for (int j = 0; j < 16; ++j) qs[j] = uint8_t(L[j] | (L[j + 16] << 4));
}

}  // namespace

void quantize_row_iq4_nl(const float* x, uint8_t* y, int64_t n, const float* imatrix) {
    encode_blocks<BlockIQ4_NL, kQK>(x, y, n, [&](const float* xb, BlockIQ4_NL& b, int64_t ib) {
        float weight[kQK];
        uint8_t L[kQK];
        iq4_weights(xb, imatrix ? imatrix + kQK * ib : nullptr, sigma2_of(xb, kQK), weight);
        const float d = iq4_block_scale(xb, weight, L);
        b.d = f32_to_f16(d);
        // Final codes against the chosen (unrounded) scale.
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        for (int j = 0; j < kQK; ++j) L[j] = uint8_t(best_index_int8(16, kIq4nlValues, id * xb[j]));
        pack_nibbles32(L, b.qs);
    });
}

void quantize_row_iq4_xs(const float* x, uint8_t* y, int64_t n, const float* imatrix) {
    encode_blocks<BlockIQ4_XS, kQK_K>(x, y, n, [&](const float* xs, BlockIQ4_XS& b, int64_t ibl) {
        const float sigma2 = sigma2_of(xs, kQK_K);
        float scales[8], weight[kQK];
        uint8_t L[kQK_K];
        float max_scale = 0.0f, amax_scale = 0.0f;
        for (int ib = 0; ib < 8; ++ib) {
            const float* qw = imatrix ? imatrix + kQK_K * ibl + kQK * ib : nullptr;
            iq4_weights(xs + kQK * ib, qw, sigma2, weight);
            scales[ib] = iq4_block_scale(xs + kQK * ib, weight, L + kQK * ib);
            if (std::fabs(scales[ib]) > amax_scale) {
                amax_scale = std::fabs(scales[ib]);
                max_scale = scales[ib];
            }
        }
        // 6-bit block scales l in -32..31 under super-scale D = -max_scale / 32.
        const float d = -max_scale / 32.0f;
        b.d = f32_to_f16(d);
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        for (int ib = 0; ib < 8; ++ib) {
            int l = std::clamp(nearest_int(id * scales[ib]), -32, 31);
            const float dl = d * float(l);
            const float idl = dl != 0.0f ? 1.0f / dl : 0.0f;
            for (int j = 0; j < kQK; ++j)
                L[kQK * ib + j] = uint8_t(best_index_int8(16, kIq4nlValues, idl * xs[kQK * ib + j]));
            l += 32;
            b.scales_l[ib / 2] |= uint8_t((l & 0xF) << (4 * (ib % 2)));
            b.scales_h |= uint16_t((l >> 4) << (2 * ib));
            pack_nibbles32(L + kQK * ib, b.qs + 16 * ib);
        }
    });
}

}  // namespace llcuda::quant
