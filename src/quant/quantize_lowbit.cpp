// Reference quantizers for the newer small formats NVFP4, Q1_0, Q2_0 and the Q8_K activation
// blocks (docs/block-formats.md §Q1_0, Q2_0 and NVFP4, §Reference quantizers). They follow ggml's *_ref routines; NVFP4/Q1_0/Q2_0 are checked
// byte for byte against ggml in tests/quant/test_quantize_ggml.cpp.
#include <algorithm>
#include <cmath>

#include "quant/block_io.h"
#include "quant/blocks.h"
#include "quant/fp_scales.h"
#include "quant/traits.h"

namespace llcuda::quant {
namespace {

// Index of the FP4 table entry closest to x at this (half) scale; the first minimum wins.
uint8_t best_fp4_index(float x, float scale) {
    int best = 0;
    float best_err = std::fabs(float(kFp4Values[0]) * scale - x);
    for (int k = 1; k < 16; ++k) {
        const float err = std::fabs(float(kFp4Values[k]) * scale - x);
        if (err < best_err) {
            best_err = err;
            best = k;
        }
    }
    return uint8_t(best);
}

}  // namespace

void quantize_row_nvfp4(const float* x, uint8_t* y, int64_t n, const float*) {
    encode_blocks<BlockNVFP4, 64>(x, y, n, [](const float* xb, BlockNVFP4& b, int64_t) {
        for (int sub = 0; sub < 4; ++sub) {  // 16 elements per UE4M3 scale
            const float* xs = xb + 16 * sub;
            float amax = 0.0f;
            for (int j = 0; j < 16; ++j) amax = std::max(amax, std::fabs(xs[j]));
            b.d[sub] = fp32_to_ue4m3(amax / 6.0f);  // 6 = largest E2M1 magnitude
            const float scale = ue4m3_half(b.d[sub]);
            for (int j = 0; j < 8; ++j)
                b.qs[8 * sub + j] = uint8_t(best_fp4_index(xs[j], scale) | (best_fp4_index(xs[j + 8], scale) << 4));
        }
    });
}

void quantize_row_q1_0(const float* x, uint8_t* y, int64_t n, const float*) {
    encode_blocks<BlockQ1_0, 128>(x, y, n, [](const float* xb, BlockQ1_0& b, int64_t) {
        float sum_abs = 0.0f;  // d = mean |x|: the L1-optimal magnitude for sign-only codes
        for (int j = 0; j < 128; ++j) sum_abs += std::fabs(xb[j]);
        b.d = f32_to_f16(sum_abs / 128.0f);
        for (int j = 0; j < 128; ++j)
            if (xb[j] >= 0.0f) b.qs[j / 8] |= uint8_t(1 << (j % 8));
    });
}

void quantize_row_q2_0(const float* x, uint8_t* y, int64_t n, const float*) {
    encode_blocks<BlockQ2_0, 64>(x, y, n, [](const float* xb, BlockQ2_0& b, int64_t) {
        float amax = 0.0f;
        for (int j = 0; j < 64; ++j) amax = std::max(amax, std::fabs(xb[j]));
        const float id = amax > 0.0f ? 1.0f / amax : 0.0f;
        b.d = f32_to_f16(amax);
        for (int j = 0; j < 64; ++j) {
            const int q = std::clamp(int(std::roundf(xb[j] * id)) + 1, 0, 3);  // codes: -1, 0, +1, +2
            b.qs[j / 4] |= uint8_t(q << (2 * (j % 4)));
        }
    });
}

void quantize_row_q8_k(const float* x, uint8_t* y, int64_t n, const float*) {
    encode_blocks<BlockQ8_K, kQK_K>(x, y, n, [](const float* xb, BlockQ8_K& b, int64_t) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < kQK_K; ++j) {
            if (std::fabs(xb[j]) > amax) {
                amax = std::fabs(xb[j]);
                max = xb[j];
            }
        }
        if (amax == 0.0f) return;
        const float iscale = -127.0f / max;
        for (int j = 0; j < kQK_K; ++j) b.qs[j] = int8_t(std::min(127, nearest_int(iscale * xb[j])));
        for (int g = 0; g < 16; ++g) {
            int sum = 0;
            for (int i = 0; i < 16; ++i) sum += b.qs[16 * g + i];
            b.bsums[g] = int16_t(sum);
        }
        b.d = 1.0f / iscale;
    });
}

}  // namespace llcuda::quant
