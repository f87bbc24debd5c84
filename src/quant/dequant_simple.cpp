// Dequantizers for plain arrays, the 32-element legacy blocks, the FP4 blocks and the ternary
// types (docs/block-formats.md §32-element types, §Q1_0, Q2_0 and NVFP4, §Ternary types). The float expressions keep the operand order of ggml's and
// gguf-py's reference decoders ((d * sc) * q - m, ...) so results are bit-identical.
#include <cstring>

#include "quant/block_io.h"
#include "quant/blocks.h"
#include "quant/fp_scales.h"
#include "quant/traits.h"

namespace llcuda::quant {
namespace {

template <class Scalar, class Convert>
void plain(const uint8_t* src, float* dst, int64_t n, Convert convert) {
    for (int64_t i = 0; i < n; ++i) {
        Scalar v;
        std::memcpy(&v, src + i * int64_t(sizeof(Scalar)), sizeof(Scalar));
        dst[i] = convert(v);
    }
}

// Low nibble of qs[j] is element j, high nibble element j + 16.
inline int nibble32(const uint8_t* qs, int i) { return i < 16 ? (qs[i] & 0xF) : (qs[i - 16] >> 4); }
inline int q5_high_bit(const uint8_t* qh, int i) {
    uint32_t bits;
    std::memcpy(&bits, qh, 4);
    return int((bits >> i) & 1u);
}

}  // namespace

void dequantize_f32(const uint8_t* s, float* d, int64_t n) { std::memcpy(d, s, size_t(n) * 4); }
void dequantize_f16(const uint8_t* s, float* d, int64_t n) {
    plain<uint16_t>(s, d, n, [](uint16_t v) { return fp16_to_fp32(v); });
}
void dequantize_bf16(const uint8_t* s, float* d, int64_t n) {
    plain<uint16_t>(s, d, n, [](uint16_t v) { return bf16_to_fp32(v); });
}
void dequantize_f64(const uint8_t* s, float* d, int64_t n) {
    plain<double>(s, d, n, [](double v) { return float(v); });
}
void dequantize_i8(const uint8_t* s, float* d, int64_t n) {
    plain<int8_t>(s, d, n, [](int8_t v) { return float(v); });
}
void dequantize_i16(const uint8_t* s, float* d, int64_t n) {
    plain<int16_t>(s, d, n, [](int16_t v) { return float(v); });
}
void dequantize_i32(const uint8_t* s, float* d, int64_t n) {
    plain<int32_t>(s, d, n, [](int32_t v) { return float(v); });
}
void dequantize_i64(const uint8_t* s, float* d, int64_t n) {
    plain<int64_t>(s, d, n, [](int64_t v) { return float(v); });
}

// The 4-bit decoders walk the 16 bytes once and write both halves (element j from the low nibble,
// j + 16 from the high one): branch-free, so the compiler vectorizes it; same arithmetic as above.
void dequantize_q4_0(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockQ4_0, kQK>(s, d, n, [](const BlockQ4_0& b, float* y) {
        const float scale = f16_to_f32(b.d);
        for (int j = 0; j < kQK / 2; ++j) {
            y[j] = scale * float((b.qs[j] & 0xF) - 8);
            y[j + kQK / 2] = scale * float((b.qs[j] >> 4) - 8);
        }
    });
}

void dequantize_q4_1(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockQ4_1, kQK>(s, d, n, [](const BlockQ4_1& b, float* y) {
        const float scale = f16_to_f32(b.d), min = f16_to_f32(b.m);
        for (int j = 0; j < kQK / 2; ++j) {
            y[j] = scale * float(b.qs[j] & 0xF) + min;
            y[j + kQK / 2] = scale * float(b.qs[j] >> 4) + min;
        }
    });
}

void dequantize_q5_0(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockQ5_0, kQK>(s, d, n, [](const BlockQ5_0& b, float* y) {
        const float scale = f16_to_f32(b.d);
        uint32_t qh;
        std::memcpy(&qh, b.qh, 4);  // bit i is bit 4 of element i
        for (int j = 0; j < kQK / 2; ++j) {
            const int lo = (b.qs[j] & 0xF) | int(((qh >> j) & 1u) << 4);
            const int hi = (b.qs[j] >> 4) | int(((qh >> (j + kQK / 2)) & 1u) << 4);
            y[j] = scale * float(lo - 16);
            y[j + kQK / 2] = scale * float(hi - 16);
        }
    });
}

void dequantize_q5_1(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockQ5_1, kQK>(s, d, n, [](const BlockQ5_1& b, float* y) {
        const float scale = f16_to_f32(b.d), min = f16_to_f32(b.m);
        uint32_t qh;
        std::memcpy(&qh, b.qh, 4);
        for (int j = 0; j < kQK / 2; ++j) {
            const int lo = (b.qs[j] & 0xF) | int(((qh >> j) & 1u) << 4);
            const int hi = (b.qs[j] >> 4) | int(((qh >> (j + kQK / 2)) & 1u) << 4);
            y[j] = scale * float(lo) + min;
            y[j + kQK / 2] = scale * float(hi) + min;
        }
    });
}

void dequantize_q8_0(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockQ8_0, kQK>(s, d, n, [](const BlockQ8_0& b, float* y) {
        const float scale = f16_to_f32(b.d);
        for (int i = 0; i < kQK; ++i) y[i] = float(b.qs[i]) * scale;
    });
}

void dequantize_q8_1(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockQ8_1, kQK>(s, d, n, [](const BlockQ8_1& b, float* y) {
        const float scale = f16_to_f32(b.d);
        for (int i = 0; i < kQK; ++i) y[i] = float(b.qs[i]) * scale;
    });
}

void dequantize_iq4_nl(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockIQ4_NL, kQK>(s, d, n, [](const BlockIQ4_NL& b, float* y) {
        const float scale = f16_to_f32(b.d);
        for (int i = 0; i < kQK; ++i) y[i] = scale * float(kIq4nlValues[nibble32(b.qs, i)]);
    });
}

void dequantize_mxfp4(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockMXFP4, kQK>(s, d, n, [](const BlockMXFP4& b, float* y) {
        const float scale = e8m0_half(b.e);
        for (int i = 0; i < kQK; ++i) y[i] = scale * float(kFp4Values[nibble32(b.qs, i)]);
    });
}

void dequantize_nvfp4(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockNVFP4, 64>(s, d, n, [](const BlockNVFP4& b, float* y) {
        for (int sub = 0; sub < 4; ++sub) {  // sub-block: 16 elements, 8 bytes, j low | j+8 high
            const float scale = ue4m3_half(b.d[sub]);
            for (int j = 0; j < 8; ++j) {
                const uint8_t byte = b.qs[8 * sub + j];
                y[16 * sub + j] = scale * float(kFp4Values[byte & 0xF]);
                y[16 * sub + j + 8] = scale * float(kFp4Values[byte >> 4]);
            }
        }
    });
}

void dequantize_q1_0(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockQ1_0, 128>(s, d, n, [](const BlockQ1_0& b, float* y) {
        const float scale = f16_to_f32(b.d);
        for (int i = 0; i < 128; ++i) y[i] = ((b.qs[i / 8] >> (i % 8)) & 1) ? scale : -scale;
    });
}

void dequantize_q2_0(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockQ2_0, 64>(s, d, n, [](const BlockQ2_0& b, float* y) {
        const float scale = f16_to_f32(b.d);
        for (int i = 0; i < 64; ++i) y[i] = float(((b.qs[i / 4] >> (2 * (i % 4))) & 3) - 1) * scale;
    });
}

void dequantize_tq2_0(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockTQ2_0, kQK_K>(s, d, n, [](const BlockTQ2_0& b, float* y) {
        const float scale = f16_to_f32(b.d);
        for (int e = 0; e < kQK_K; ++e) {
            const int code = (b.qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
            y[e] = scale * float(code - 1);
        }
    });
}

void dequantize_tq1_0(const uint8_t* s, float* d, int64_t n) {
    // Trit t of a byte: multiply by 3^t with 8-bit wrap-around, then the top "digit" is (v*3) >> 8.
    static constexpr uint8_t kPow3[5] = {1, 3, 9, 27, 81};
    auto trit = [](uint8_t byte, int t) { return int((uint16_t(uint8_t(byte * kPow3[t])) * 3) >> 8); };
    for_each_block<BlockTQ1_0, kQK_K>(s, d, n, [&](const BlockTQ1_0& b, float* y) {
        const float scale = f16_to_f32(b.d);
        for (int t = 0; t < 5; ++t)
            for (int m = 0; m < 32; ++m) y[t * 32 + m] = scale * float(trit(b.qs[m], t) - 1);
        for (int t = 0; t < 5; ++t)
            for (int m = 0; m < 16; ++m) y[160 + t * 16 + m] = scale * float(trit(b.qs[32 + m], t) - 1);
        for (int t = 0; t < 4; ++t)
            for (int j = 0; j < 4; ++j) y[240 + t * 4 + j] = scale * float(trit(b.qh[j], t) - 1);
    });
}

}  // namespace llcuda::quant
