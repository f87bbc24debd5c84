// Reference quantizers for the plain float types, the 32-element legacy blocks, MXFP4 and the
// ternary types (docs/block-formats.md §Reference quantizers). Without an importance matrix these reproduce ggml's *_ref
// routines (and gguf-py's numpy ports) byte for byte: the codes are computed with the unrounded
// float32 scale, truncation / roundf rounding as documented, and only the stored scale is f16.
// With an importance matrix Q4_0..Q5_1 switch to the weighted searches in legacy_imatrix.cpp.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/block_io.h"
#include "quant/blocks.h"
#include "quant/fp_scales.h"
#include "quant/legacy_imatrix.h"
#include "quant/traits.h"

namespace llcuda::quant {
namespace {

// The signed element of largest magnitude (first one wins ties), as ggml's Q4_0/Q5_0 use it.
float signed_absmax(const float* x, int n) {
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < n; ++i) {
        if (amax < std::fabs(x[i])) {
            amax = std::fabs(x[i]);
            max = x[i];
        }
    }
    return max;
}

void min_max(const float* x, int n, float& min, float& max) {
    min = max = x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
    }
}

float absmax(const float* x, int n) {
    float amax = 0.0f;
    for (int i = 0; i < n; ++i) amax = std::fmax(amax, std::fabs(x[i]));
    return amax;
}

// Packs 32 codes: qs[j] = q[j] | q[j+16] << 4 (bit 4, if any, goes to qh).
void pack32(const uint8_t* q, uint8_t* qs, uint8_t* qh) {
    uint32_t high = 0;
    for (int j = 0; j < 16; ++j) {
        qs[j] = uint8_t((q[j] & 0xF) | ((q[j + 16] & 0xF) << 4));
        high |= uint32_t((q[j] >> 4) & 1) << j;
        high |= uint32_t((q[j + 16] >> 4) & 1) << (j + 16);
    }
    if (qh) std::memcpy(qh, &high, 4);
}

void q4_0_ref(const float* x, BlockQ4_0& b) {
    const float d = signed_absmax(x, kQK) / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    uint8_t q[kQK];
    for (int i = 0; i < kQK; ++i) q[i] = uint8_t(std::min(15, int(int8_t(x[i] * id + 8.5f))));
    b.d = f32_to_f16(d);
    pack32(q, b.qs, nullptr);
}

void q4_1_ref(const float* x, BlockQ4_1& b) {
    float min, max;
    min_max(x, kQK, min, max);
    const float d = (max - min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    uint8_t q[kQK];
    for (int i = 0; i < kQK; ++i) q[i] = uint8_t(std::min(15, int(int8_t((x[i] - min) * id + 0.5f))));
    b.d = f32_to_f16(d);
    b.m = f32_to_f16(min);
    pack32(q, b.qs, nullptr);
}

void q5_0_ref(const float* x, BlockQ5_0& b) {
    const float d = signed_absmax(x, kQK) / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    uint8_t q[kQK];
    for (int i = 0; i < kQK; ++i) q[i] = uint8_t(std::min(31, int(int8_t(x[i] * id + 16.5f))));
    b.d = f32_to_f16(d);
    pack32(q, b.qs, b.qh);
}

void q5_1_ref(const float* x, BlockQ5_1& b) {
    float min, max;
    min_max(x, kQK, min, max);
    const float d = (max - min) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    uint8_t q[kQK];
    for (int i = 0; i < kQK; ++i) q[i] = uint8_t(std::min(31, int(uint8_t((x[i] - min) * id + 0.5f))));
    b.d = f32_to_f16(d);
    b.m = f32_to_f16(min);
    pack32(q, b.qs, b.qh);
}

}  // namespace

void quantize_row_f32(const float* x, uint8_t* y, int64_t n, const float*) {
    std::memcpy(y, x, size_t(n) * 4);
}

void quantize_row_f16(const float* x, uint8_t* y, int64_t n, const float*) {
    for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = fp32_to_fp16(x[i]);
        std::memcpy(y + 2 * i, &h, 2);
    }
}

void quantize_row_bf16(const float* x, uint8_t* y, int64_t n, const float*) {
    for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = fp32_to_bf16(x[i]);
        std::memcpy(y + 2 * i, &h, 2);
    }
}

void quantize_row_q4_0(const float* x, uint8_t* y, int64_t n, const float* imatrix) {
    if (imatrix) return quantize_row_q4_0_imatrix(x, y, n, imatrix);
    encode_blocks<BlockQ4_0, kQK>(x, y, n, [](const float* xb, BlockQ4_0& b, int64_t) { q4_0_ref(xb, b); });
}

void quantize_row_q4_1(const float* x, uint8_t* y, int64_t n, const float* imatrix) {
    if (imatrix) return quantize_row_q4_1_imatrix(x, y, n, imatrix);
    encode_blocks<BlockQ4_1, kQK>(x, y, n, [](const float* xb, BlockQ4_1& b, int64_t) { q4_1_ref(xb, b); });
}

void quantize_row_q5_0(const float* x, uint8_t* y, int64_t n, const float* imatrix) {
    if (imatrix) return quantize_row_q5_0_imatrix(x, y, n, imatrix);
    encode_blocks<BlockQ5_0, kQK>(x, y, n, [](const float* xb, BlockQ5_0& b, int64_t) { q5_0_ref(xb, b); });
}

void quantize_row_q5_1(const float* x, uint8_t* y, int64_t n, const float* imatrix) {
    if (imatrix) return quantize_row_q5_1_imatrix(x, y, n, imatrix);
    encode_blocks<BlockQ5_1, kQK>(x, y, n, [](const float* xb, BlockQ5_1& b, int64_t) { q5_1_ref(xb, b); });
}

void quantize_row_q8_0(const float* x, uint8_t* y, int64_t n, const float*) {
    encode_blocks<BlockQ8_0, kQK>(x, y, n, [](const float* xb, BlockQ8_0& b, int64_t) {
        const float d = absmax(xb, kQK) / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        for (int i = 0; i < kQK; ++i) b.qs[i] = int8_t(std::roundf(xb[i] * id));
        b.d = f32_to_f16(d);
    });
}

void quantize_row_q8_1(const float* x, uint8_t* y, int64_t n, const float*) {
    encode_blocks<BlockQ8_1, kQK>(x, y, n, [](const float* xb, BlockQ8_1& b, int64_t) {
        const float d = absmax(xb, kQK) / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        int sum = 0;
        for (int i = 0; i < kQK; ++i) {
            b.qs[i] = int8_t(std::roundf(xb[i] * id));
            sum += b.qs[i];
        }
        b.d = f32_to_f16(d);
        b.s = f32_to_f16(float(sum) * d);
    });
}

void quantize_row_mxfp4(const float* x, uint8_t* y, int64_t n, const float*) {
    encode_blocks<BlockMXFP4, kQK>(x, y, n, [](const float* xb, BlockMXFP4& b, int64_t) {
        const float amax = absmax(xb, kQK);
        // Shared exponent: the largest value lands in the top binade of E2M1 (4..6).
        // (Clamped so a denormal amax cannot wrap the byte; ggml leaves that case undefined.)
        const float e = amax > 0.0f ? std::floor(std::log2(amax)) - 2 + 127 : 0.0f;
        b.e = uint8_t(std::clamp(e, 0.0f, 254.0f));
        const float scale = e8m0_half(b.e);
        uint8_t q[kQK];
        for (int i = 0; i < kQK; ++i) {
            int best = 0;
            float best_err = std::fabs(scale * float(kFp4Values[0]) - xb[i]);
            for (int k = 1; k < 16; ++k) {  // first minimum wins
                const float err = std::fabs(scale * float(kFp4Values[k]) - xb[i]);
                if (err < best_err) {
                    best_err = err;
                    best = k;
                }
            }
            q[i] = uint8_t(best);
        }
        pack32(q, b.qs, nullptr);
    });
}

void quantize_row_tq2_0(const float* x, uint8_t* y, int64_t n, const float*) {
    encode_blocks<BlockTQ2_0, kQK_K>(x, y, n, [](const float* xb, BlockTQ2_0& b, int64_t) {
        const float d = absmax(xb, kQK_K);
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        for (int e = 0; e < kQK_K; ++e) {
            const int code = int(std::lroundf(xb[e] * id)) + 1;
            b.qs[32 * (e / 128) + e % 32] |= uint8_t(code << (2 * ((e % 128) / 32)));
        }
        b.d = f32_to_f16(d);
    });
}

void quantize_row_tq1_0(const float* x, uint8_t* y, int64_t n, const float*) {
    // A byte holds trits t0..t4 as t = sum t_k 3^(4-k), stored as ceil(t * 256 / 243) so that the
    // decoder can extract digit k with a wrapping multiply by 3^k (see dequant_simple.cpp).
    auto encode_byte = [](const int* trits, int count) {
        int t = 0;
        for (int k = 0; k < count; ++k) t = t * 3 + trits[k];
        for (int k = count; k < 5; ++k) t *= 3;
        return uint8_t((t * 256 + 242) / 243);
    };
    encode_blocks<BlockTQ1_0, kQK_K>(x, y, n, [&](const float* xb, BlockTQ1_0& b, int64_t) {
        const float d = absmax(xb, kQK_K);
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        int q[kQK_K];
        for (int e = 0; e < kQK_K; ++e) q[e] = int(std::lroundf(xb[e] * id)) + 1;
        int trits[5];
        for (int m = 0; m < 32; ++m) {
            for (int k = 0; k < 5; ++k) trits[k] = q[k * 32 + m];
            b.qs[m] = encode_byte(trits, 5);
        }
        for (int m = 0; m < 16; ++m) {
            for (int k = 0; k < 5; ++k) trits[k] = q[160 + k * 16 + m];
            b.qs[32 + m] = encode_byte(trits, 5);
        }
        for (int j = 0; j < 4; ++j) {
            for (int k = 0; k < 4; ++k) trits[k] = q[240 + k * 4 + j];
            b.qh[j] = encode_byte(trits, 4);
        }
        b.d = f32_to_f16(d);
    });
}

}  // namespace llcuda::quant
