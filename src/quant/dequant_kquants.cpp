// Dequantizers for the K-quant super-blocks Q2_K..Q8_K (docs/block-formats.md §K-quants). Element indexing is
// written per element (e = 0..255) exactly as the layout tables state it; products are formed in
// the reference order ((d * sc) * q - dmin * m) so the output matches ggml bit for bit.
#include "quant/block_io.h"
#include "quant/blocks.h"
#include "quant/kquant_scales.h"
#include "quant/traits.h"

namespace llcuda::quant {
namespace {

// The 2-bit code of element e in a 64-byte array laid out as 2 x (32 bytes x 4 shifts).
inline int two_bit_code(const uint8_t* qs, int e) {
    return (qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
}

// The 4-bit code of element e in Q4_K/Q5_K qs: chunks of 64 elements over 32 bytes, low then high.
inline int q4k_nibble(const uint8_t* qs, int e) {
    const int r = e % 64;
    const uint8_t byte = qs[32 * (e / 64) + r % 32];
    return r < 32 ? (byte & 0xF) : (byte >> 4);
}

}  // namespace

void dequantize_q2_k(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockQ2_K, kQK_K>(s, d, n, [](const BlockQ2_K& b, float* y) {
        const float dall = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
        for (int k = 0; k < 16; ++k) {
            const float dl = dall * float(b.scales[k] & 0xF);
            const float ml = dmin * float(b.scales[k] >> 4);
            for (int i = 0; i < 16; ++i) {
                const int e = 16 * k + i;
                y[e] = dl * float(two_bit_code(b.qs, e)) - ml;
            }
        }
    });
}

void dequantize_q3_k(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockQ3_K, kQK_K>(s, d, n, [](const BlockQ3_K& b, float* y) {
        const float dall = f16_to_f32(b.d);
        for (int k = 0; k < 16; ++k) {
            const float dl = dall * float(q3k_scale(b.scales, k) - 32);
            for (int i = 0; i < 16; ++i) {
                const int e = 16 * k + i;
                const int low2 = two_bit_code(b.qs, e);
                const int hbit = (b.hmask[e % 32] >> (e / 32)) & 1;
                y[e] = dl * float(hbit ? low2 : low2 - 4);
            }
        }
    });
}

void dequantize_q4_k(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockQ4_K, kQK_K>(s, d, n, [](const BlockQ4_K& b, float* y) {
        const float dall = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
        for (int j = 0; j < 8; ++j) {
            int sc, m;
            k4_scale_min(b.scales, j, sc, m);
            const float d1 = dall * float(sc), m1 = dmin * float(m);
            for (int i = 0; i < 32; ++i) y[32 * j + i] = d1 * float(q4k_nibble(b.qs, 32 * j + i)) - m1;
        }
    });
}

void dequantize_q5_k(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockQ5_K, kQK_K>(s, d, n, [](const BlockQ5_K& b, float* y) {
        const float dall = f16_to_f32(b.d), dmin = f16_to_f32(b.dmin);
        for (int j = 0; j < 8; ++j) {
            int sc, m;
            k4_scale_min(b.scales, j, sc, m);
            const float d1 = dall * float(sc), m1 = dmin * float(m);
            for (int i = 0; i < 32; ++i) {
                const int e = 32 * j + i;
                const int q = q4k_nibble(b.qs, e) | (((b.qh[e % 32] >> (e / 32)) & 1) << 4);
                y[e] = d1 * float(q) - m1;
            }
        }
    });
}

void dequantize_q6_k(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockQ6_K, kQK_K>(s, d, n, [](const BlockQ6_K& b, float* y) {
        const float dall = f16_to_f32(b.d);
        for (int e = 0; e < kQK_K; ++e) {
            const int h = e / 128, r = e % 128, j = r / 32, l = r % 32;
            const uint8_t low_byte = b.ql[64 * h + l + 32 * (j & 1)];
            const int low4 = j < 2 ? (low_byte & 0xF) : (low_byte >> 4);
            const int hi2 = (b.qh[32 * h + l] >> (2 * j)) & 3;
            const float dl = dall * float(b.scales[e / 16]);
            y[e] = dl * float((low4 | (hi2 << 4)) - 32);
        }
    });
}

void dequantize_q8_k(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockQ8_K, kQK_K>(s, d, n, [](const BlockQ8_K& b, float* y) {
        for (int i = 0; i < kQK_K; ++i) y[i] = b.d * float(b.qs[i]);
    });
}

}  // namespace llcuda::quant
