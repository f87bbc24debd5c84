// K-quant quantizers Q2_K..Q6_K (docs/block-formats.md §K-quant quantizers, §Importance matrix). Per super-block of 256:
//   1. search a float scale (and min) per sub-block of 16 or 32 elements;
//   2. quantize those sub-block scales to 4/6/8 bits under one f16 super-scale;
//   3. re-quantize every element against the *rounded* scales actually stored, so the codes fit
//      what the decoder will compute.
// Without an importance matrix this follows ggml's *_ref routines; with one, the *_impl ones.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/block_io.h"
#include "quant/blocks.h"
#include "quant/kquant_scales.h"
#include "quant/kquant_search.h"
#include "quant/traits.h"

namespace llcuda::quant {
namespace {

// Packs 256 2-bit codes: byte 32*(e/128) + e%32, bit pair (e%128)/32.
void pack_2bit(const uint8_t* L, uint8_t* qs) {
    for (int e = 0; e < kQK_K; ++e) qs[32 * (e / 128) + e % 32] |= uint8_t((L[e] & 3) << (2 * ((e % 128) / 32)));
}

// Packs 256 4-bit codes in 64-element chunks over 32 bytes (low nibble first 32, high next 32).
void pack_4bit_k(const uint8_t* L, uint8_t* qs) {
    for (int e = 0; e < kQK_K; ++e) {
        const int r = e % 64;
        qs[32 * (e / 64) + r % 32] |= uint8_t((L[e] & 0xF) << (r < 32 ? 0 : 4));
    }
}

float sum_squares(const float* x, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; ++i) s += x[i] * x[i];
    return s;
}

// ---- Q2_K: 16 sub-blocks of 16, x = d*sc*q - dmin*m, q in 0..3, 4-bit sc and m ----
void q2_k_block(const float* x, const float* qw, BlockQ2_K& b) {
    uint8_t L[kQK_K];              // code per element, 0..3
    uint8_t laux[16];              // scratch codes of one sub-block
    uint8_t Ls[16], Lm[16];        // 4-bit scale / min per sub-block (imatrix path)
    float weights[16];             // per-element weights of one sub-block
    float mins[16], scales[16];    // float min / scale per sub-block of 16
    float sw[16];                  // sum of weights per sub-block
    if (!qw) {
        float max_scale = 0.0f, max_min = 0.0f;
        for (int j = 0; j < 16; ++j) {
            for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
            scales[j] = make_qkx_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], laux, -0.5f, 0.1f, 15, true);
            max_scale = std::max(max_scale, scales[j]);
            max_min = std::max(max_min, mins[j]);
        }
        if (max_scale > 0.0f) {
            const float iscale = 15.0f / max_scale;
            for (int j = 0; j < 16; ++j) b.scales[j] = uint8_t(nearest_int(iscale * scales[j]));
            b.d = f32_to_f16(max_scale / 15.0f);
        }
        if (max_min > 0.0f) {
            const float iscale = 15.0f / max_min;
            for (int j = 0; j < 16; ++j) b.scales[j] |= uint8_t(nearest_int(iscale * mins[j]) << 4);
            b.dmin = f32_to_f16(max_min / 15.0f);
        }
    } else {
        const float sigma2 = sum_squares(x, kQK_K) / float(kQK_K);
        for (int j = 0; j < 16; ++j) {
            float sumw = 0.0f;
            for (int l = 0; l < 16; ++l) {
                weights[l] = qw[16 * j + l] * std::sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
                sumw += weights[l];
            }
            sw[j] = sumw;
            scales[j] = make_qkx_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], laux, -0.9f, 0.05f, 36, false);
        }
        b.d = f32_to_f16(make_qp_quants(16, 15, scales, Ls, sw));
        b.dmin = f32_to_f16(make_qp_quants(16, 15, mins, Lm, sw));
        for (int j = 0; j < 16; ++j) b.scales[j] = uint8_t(Ls[j] | (Lm[j] << 4));
    }
    const float dall = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
    for (int j = 0; j < 16; ++j) {
        const float d = dall * float(b.scales[j] & 0xF);
        if (d == 0.0f) continue;
        const float dm = dmin * float(b.scales[j] >> 4);
        for (int i = 0; i < 16; ++i) L[16 * j + i] = uint8_t(std::clamp(nearest_int((x[16 * j + i] + dm) / d), 0, 3));
    }
    pack_2bit(L, b.qs);
}

// ---- Q3_K: 16 sub-blocks of 16, x = d*(s-32)*q, q in -4..3, 6-bit signed scales ----
void q3_k_block(const float* x, const float* qw, BlockQ3_K& b) {
    int8_t L[kQK_K];    // code per element, 0..7 (value = code - 4)
    float scales[16];   // signed float scale per sub-block of 16
    if (!qw) {
        float max_scale = 0.0f, amax = 0.0f;
        for (int j = 0; j < 16; ++j) {
            scales[j] = make_q3_quants(16, 4, x + 16 * j, L + 16 * j, true);
            if (std::fabs(scales[j]) > amax) {
                amax = std::fabs(scales[j]);
                max_scale = scales[j];
            }
        }
        if (max_scale != 0.0f) {
            const float iscale = -32.0f / max_scale;
            for (int j = 0; j < 16; ++j) {
                const int l = std::clamp(nearest_int(iscale * scales[j]), -32, 31) + 32;
                q3k_pack_scale(b.scales, j, l);
            }
            b.d = f32_to_f16(1.0f / iscale);
        }
    } else {
        const float sigma2 = 2.0f * sum_squares(x, kQK_K) / float(kQK_K);
        float weights[16], sw[16];
        int8_t Ls[16];
        for (int j = 0; j < 16; ++j) {
            float sumw = 0.0f;
            for (int l = 0; l < 16; ++l) {
                weights[l] = qw[16 * j + l] * std::sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
                sumw += weights[l];
            }
            sw[j] = sumw;
            scales[j] = make_qx_quants(16, 4, x + 16 * j, L + 16 * j, 1, weights);
        }
        const float d_block = make_qx_quants(16, 32, scales, Ls, 1, sw);
        for (int j = 0; j < 16; ++j) q3k_pack_scale(b.scales, j, Ls[j]);  // Ls already = l + 32
        b.d = f32_to_f16(d_block);
    }
    const float dall = f16_to_f32(b.d);
    for (int j = 0; j < 16; ++j) {
        const float d = dall * float(q3k_scale(b.scales, j) - 32);
        if (d == 0.0f) continue;
        for (int i = 0; i < 16; ++i)
            L[16 * j + i] = int8_t(std::clamp(nearest_int(x[16 * j + i] / d), -4, 3) + 4);
    }
    // Codes 0..7: bit 2 into hmask (element e -> hmask[e%32] bit e/32), low 2 bits into qs.
    uint8_t low[kQK_K];
    for (int e = 0; e < kQK_K; ++e) {
        if (L[e] > 3) b.hmask[e % 32] |= uint8_t(1 << (e / 32));
        low[e] = uint8_t(L[e] & 3);
    }
    pack_2bit(low, b.qs);
}

// ---- Q4_K / Q5_K: 8 sub-blocks of 32, x = d*sc*q - dmin*m, 6-bit sc and m ----
template <int kNmax>
void q45_k_scales(const float* x, const float* qw, uint8_t* L, uint8_t* packed, uint16_t& d_out, uint16_t& dmin_out) {
    float weights[32];                     // per-element weights of one sub-block of 32
    float mins[8], scales[8], sw[8];       // per sub-block: float min, float scale, weight sum
    uint8_t laux[32], Ls[8], Lm[8];        // scratch codes; 6-bit scale / min per sub-block
    const float sigma2 = 2.0f * sum_squares(x, kQK_K) / float(kQK_K);
    for (int j = 0; j < 8; ++j) {
        const float* xs = x + 32 * j;
        if (!qw) {
            const float av_x = std::sqrt(sum_squares(xs, 32) / 32.0f);
            for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
            const float rmin = kNmax == 15 ? -1.0f : -0.5f;
            const int nstep = kNmax == 15 ? 20 : 15;
            scales[j] = make_qkx_quants(32, kNmax, xs, weights, L + 32 * j, &mins[j], laux, rmin, 0.1f, nstep, false);
        } else {
            float sumw = 0.0f;
            for (int l = 0; l < 32; ++l) {
                weights[l] = qw[32 * j + l] * std::sqrt(sigma2 + xs[l] * xs[l]);
                sumw += weights[l];
            }
            sw[j] = sumw;
            scales[j] = make_qkx_quants(32, kNmax, xs, weights, L + 32 * j, &mins[j], laux, -0.9f, 0.05f, 36, false);
        }
    }
    if (!qw) {
        float max_scale = 0.0f, max_min = 0.0f;
        for (int j = 0; j < 8; ++j) {
            max_scale = std::max(max_scale, scales[j]);
            max_min = std::max(max_min, mins[j]);
        }
        const float inv_scale = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
        const float inv_min = max_min > 0.0f ? 63.0f / max_min : 0.0f;
        for (int j = 0; j < 8; ++j) {
            Ls[j] = uint8_t(std::min(63, nearest_int(inv_scale * scales[j])));
            Lm[j] = uint8_t(std::min(63, nearest_int(inv_min * mins[j])));
        }
        d_out = f32_to_f16(max_scale / 63.0f);
        dmin_out = f32_to_f16(max_min / 63.0f);
    } else {
        d_out = f32_to_f16(make_qp_quants(8, 63, scales, Ls, sw));
        dmin_out = f32_to_f16(make_qp_quants(8, 63, mins, Lm, sw));
    }
    for (int j = 0; j < 8; ++j) k4_pack_scale_min(packed, j, Ls[j], Lm[j]);
    // Re-quantize against the stored (rounded) scales.
    const float dall = f16_to_f32(d_out), dmin = f16_to_f32(dmin_out);
    for (int j = 0; j < 8; ++j) {
        int sc, m;
        k4_scale_min(packed, j, sc, m);
        const float d = dall * float(sc);
        if (d == 0.0f) continue;
        const float dm = dmin * float(m);
        for (int i = 0; i < 32; ++i)
            L[32 * j + i] = uint8_t(std::clamp(nearest_int((x[32 * j + i] + dm) / d), 0, kNmax));
    }
}

void q4_k_block(const float* x, const float* qw, BlockQ4_K& b) {
    uint8_t L[kQK_K];
    q45_k_scales<15>(x, qw, L, b.scales, b.d, b.dmin);
    pack_4bit_k(L, b.qs);
}

void q5_k_block(const float* x, const float* qw, BlockQ5_K& b) {
    uint8_t L[kQK_K];
    q45_k_scales<31>(x, qw, L, b.scales, b.d, b.dmin);
    for (int e = 0; e < kQK_K; ++e) {
        if (L[e] > 15) b.qh[e % 32] |= uint8_t(1 << (e / 32));
        L[e] &= 0xF;
    }
    pack_4bit_k(L, b.qs);
}

// ---- Q6_K: 16 sub-blocks of 16, x = d*sc*(q-32), 8-bit signed sc ----
void q6_k_block(const float* x, const float* qw, BlockQ6_K& b) {
    int8_t L[kQK_K];    // code per element, 0..63 (value = code - 32)
    float scales[16];   // signed float scale per sub-block of 16
    float max_scale = 0.0f, max_abs_scale = 0.0f;
    for (int j = 0; j < 16; ++j) {
        scales[j] = make_qx_quants(16, 32, x + 16 * j, L + 16 * j, 1, qw ? qw + 16 * j : nullptr);
        if (std::fabs(scales[j]) > max_abs_scale) {
            max_abs_scale = std::fabs(scales[j]);
            max_scale = scales[j];
        }
    }
    if (max_abs_scale < kGroupMaxEps) return;  // all-zero block: zero bytes decode to zeros
    const float iscale = -128.0f / max_scale;
    b.d = f32_to_f16(1.0f / iscale);
    for (int j = 0; j < 16; ++j) b.scales[j] = int8_t(std::min(127, nearest_int(iscale * scales[j])));
    const float dall = f16_to_f32(b.d);
    for (int j = 0; j < 16; ++j) {
        const float d = dall * float(b.scales[j]);
        if (d == 0.0f) continue;
        for (int i = 0; i < 16; ++i)
            L[16 * j + i] = int8_t(std::clamp(nearest_int(x[16 * j + i] / d), -32, 31) + 32);
    }
    for (int e = 0; e < kQK_K; ++e) {  // inverse of the layout in dequant_kquants.cpp
        const int h = e / 128, r = e % 128, j = r / 32, l = r % 32;
        const int q = L[e];
        b.ql[64 * h + l + 32 * (j & 1)] |= uint8_t((q & 0xF) << (j < 2 ? 0 : 4));
        b.qh[32 * h + l] |= uint8_t((q >> 4) << (2 * j));
    }
}

template <class Block, void (*kEncode)(const float*, const float*, Block&)>
void kquant_row(const float* x, uint8_t* y, int64_t n, const float* imatrix) {
    encode_blocks<Block, kQK_K>(x, y, n, [&](const float* xb, Block& b, int64_t i) {
        kEncode(xb, imatrix ? imatrix + kQK_K * i : nullptr, b);
    });
}

}  // namespace

void quantize_row_q2_k(const float* x, uint8_t* y, int64_t n, const float* w) { kquant_row<BlockQ2_K, q2_k_block>(x, y, n, w); }
void quantize_row_q3_k(const float* x, uint8_t* y, int64_t n, const float* w) { kquant_row<BlockQ3_K, q3_k_block>(x, y, n, w); }
void quantize_row_q4_k(const float* x, uint8_t* y, int64_t n, const float* w) { kquant_row<BlockQ4_K, q4_k_block>(x, y, n, w); }
void quantize_row_q5_k(const float* x, uint8_t* y, int64_t n, const float* w) { kquant_row<BlockQ5_K, q5_k_block>(x, y, n, w); }
void quantize_row_q6_k(const float* x, uint8_t* y, int64_t n, const float* w) { kquant_row<BlockQ6_K, q6_k_block>(x, y, n, w); }

}  // namespace llcuda::quant
