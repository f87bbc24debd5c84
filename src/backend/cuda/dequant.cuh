// Device-side decoding of the weight layouts of matmul_layout.h: value by value (embedding lookup,
// dequantization into the GEMM scratch) and the small integer tricks the matrix-vector kernels
// share. The formulas follow the CPU decoders in src/quant/dequant_*.cpp operation for operation
// ((d * sc) * q - dmin * m, ...), so a decoded value equals the CPU's bit for bit.
#pragma once

#include <cuda_fp16.h>

#include <cstdint>

#include "backend/cuda/matmul_layout.h"

namespace llcuda::cuda {

// ---- scalar conversions ---------------------------------------------------------------------

__device__ __forceinline__ float f16_bits_to_f32(uint32_t bits) {
    return __half2float(__ushort_as_half(static_cast<unsigned short>(bits & 0xFFFFu)));
}
__device__ __forceinline__ float bf16_bits_to_f32(uint32_t bits) { return __uint_as_float((bits & 0xFFFFu) << 16); }

// Small integer -> float without I2F (a quarter-rate instruction): 0x4B400000 is 1.5 * 2^23, whose
// mantissa absorbs any |q| < 2^22 exactly; subtracting the bias leaves q.
__device__ __forceinline__ float int_to_f32_fast(int q) {
    return __int_as_float(0x4B400000 + q) - 12582912.0f;
}
// An unsigned field already masked into the low mantissa bits: (bits | 2^23 exponent) - 2^23 - bias.
__device__ __forceinline__ float masked_to_f32(uint32_t field, float bias_plus_2p23) {
    return __uint_as_float(0x4B000000u | field) - bias_plus_2p23;
}

// The IQ4_NL / IQ4_XS code book (kIq4nlValues in quant/blocks.h, which is C++20 and so not
// includable here) packed four bytes to a word for PRMT lookups: entries 0..7 in words 0..1,
// 8..15 in words 2..3.
inline constexpr int8_t kIq4Values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                          1,    13,   25,  38,  53,  69,  89,  113};
constexpr uint32_t iq4_word(int w) {
    return uint32_t(uint8_t(kIq4Values[4 * w])) | uint32_t(uint8_t(kIq4Values[4 * w + 1])) << 8 |
           uint32_t(uint8_t(kIq4Values[4 * w + 2])) << 16 | uint32_t(uint8_t(kIq4Values[4 * w + 3])) << 24;
}
__device__ __forceinline__ int iq4_value(uint32_t code) {
    const uint32_t lo = __byte_perm(iq4_word(0), iq4_word(1), code & 7);
    const uint32_t hi = __byte_perm(iq4_word(2), iq4_word(3), code & 7);
    return static_cast<int>(static_cast<int8_t>((code & 8) ? hi : lo));
}

// K-quant packed 6-bit scales (quant/kquant_scales.h), device copies.
__device__ __forceinline__ void k4_scale_min_dev(const uint8_t* b, int j, int& scale, int& min) {
    if (j < 4) {
        scale = b[j] & 63;
        min = b[j + 4] & 63;
    } else {
        scale = (b[j + 4] & 0xF) | ((b[j - 4] >> 6) << 4);
        min = (b[j + 4] >> 4) | ((b[j] >> 6) << 4);
    }
}
__device__ __forceinline__ int q3k_scale_dev(const uint8_t* b, int k) {
    const int low = k < 8 ? (b[k] & 0xF) : (b[k - 8] >> 4);
    const int high = (b[8 + k % 4] >> (2 * (k / 4))) & 3;
    return low | (high << 4);
}

__device__ __forceinline__ uint16_t ld_u16(const uint8_t* p) { return *reinterpret_cast<const uint16_t*>(p); }

// ---- kLayoutRows: one value ---------------------------------------------------------------------

// Value e (0 <= e < rows_geom(T).elems) of the block whose quant bytes start at q and side bytes at s.
template <GgmlType T>
__device__ __forceinline__ float rows_value(const uint8_t* q, const uint8_t* s, int e) {
    if constexpr (T == GgmlType::F32) {
        return reinterpret_cast<const float*>(q)[e];
    } else if constexpr (T == GgmlType::F16) {
        return f16_bits_to_f32(ld_u16(q + 2 * e));
    } else if constexpr (T == GgmlType::BF16) {
        return bf16_bits_to_f32(ld_u16(q + 2 * e));
    } else if constexpr (T == GgmlType::Q4_1 || T == GgmlType::IQ4_NL) {
        const int code = e < 16 ? (q[e] & 0xF) : (q[e - 16] >> 4);
        const float d = f16_bits_to_f32(ld_u16(s));
        if constexpr (T == GgmlType::Q4_1) return d * float(code) + f16_bits_to_f32(ld_u16(s + 2));
        if constexpr (T == GgmlType::IQ4_NL) return d * float(iq4_value(code));
    } else if constexpr (T == GgmlType::Q5_0 || T == GgmlType::Q5_1) {
        // side: Q5_0 {d, qh[4]}, Q5_1 {d, m, qh[4]}
        const uint8_t* qhp = s + (T == GgmlType::Q5_0 ? 2 : 4);
        const uint32_t qh = uint32_t(ld_u16(qhp)) | (uint32_t(ld_u16(qhp + 2)) << 16);
        const int code = (e < 16 ? (q[e] & 0xF) : (q[e - 16] >> 4)) | int(((qh >> e) & 1u) << 4);
        const float d = f16_bits_to_f32(ld_u16(s));
        if constexpr (T == GgmlType::Q5_0) return d * float(code - 16);
        else return d * float(code) + f16_bits_to_f32(ld_u16(s + 2));
    } else if constexpr (T == GgmlType::Q8_0) {
        return float(static_cast<int8_t>(q[e])) * f16_bits_to_f32(ld_u16(s));
    } else if constexpr (T == GgmlType::Q2_K) {
        const int sc = s[e / 16];
        const float dl = f16_bits_to_f32(ld_u16(s + 16)) * float(sc & 0xF);
        const float ml = f16_bits_to_f32(ld_u16(s + 18)) * float(sc >> 4);
        const int code = (q[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
        return dl * float(code) - ml;
    } else if constexpr (T == GgmlType::Q3_K) {
        const uint8_t* hmask = q;
        const uint8_t* qs = q + 32;
        const float dl = f16_bits_to_f32(ld_u16(s + 12)) * float(q3k_scale_dev(s, e / 16) - 32);
        const int low2 = (qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
        const int hbit = (hmask[e % 32] >> (e / 32)) & 1;
        return dl * float(hbit ? low2 : low2 - 4);
    } else if constexpr (T == GgmlType::Q4_K || T == GgmlType::Q5_K) {
        int sc, m;
        k4_scale_min_dev(s + 4, e / 32, sc, m);
        const float d1 = f16_bits_to_f32(ld_u16(s)) * float(sc);
        const float m1 = f16_bits_to_f32(ld_u16(s + 2)) * float(m);
        const uint8_t* qs = T == GgmlType::Q5_K ? q + 32 : q;
        const int r = e % 64;
        const uint8_t byte = qs[32 * (e / 64) + r % 32];
        int code = r < 32 ? (byte & 0xF) : (byte >> 4);
        if constexpr (T == GgmlType::Q5_K) code |= ((q[e % 32] >> (e / 32)) & 1) << 4;
        return d1 * float(code) - m1;
    } else if constexpr (T == GgmlType::Q6_K) {
        const uint8_t* ql = q;
        const uint8_t* qh = q + 128;
        const int h = e / 128, r = e % 128, j = r / 32, l = r % 32;
        const uint8_t low_byte = ql[64 * h + l + 32 * (j & 1)];
        const int low4 = j < 2 ? (low_byte & 0xF) : (low_byte >> 4);
        const int hi2 = (qh[32 * h + l] >> (2 * j)) & 3;
        const float dl = f16_bits_to_f32(ld_u16(s + 16)) * float(static_cast<int8_t>(s[e / 16]));
        return dl * float((low4 | (hi2 << 4)) - 32);
    } else if constexpr (T == GgmlType::IQ4_XS) {
        const int ib = e / 32, j = e % 32;
        const int ls = ((s[4 + ib / 2] >> (4 * (ib % 2))) & 0xF) | (((ld_u16(s + 2) >> (2 * ib)) & 3) << 4);
        const float dl = f16_bits_to_f32(ld_u16(s)) * float(ls - 32);
        const uint8_t* qs = q + 16 * ib;
        const int code = j < 16 ? (qs[j] & 0xF) : (qs[j - 16] >> 4);
        return dl * float(iq4_value(code));
    } else {
        static_assert(T == GgmlType::F32, "type without a rows-layout decoder");
        return 0.0f;
    }
}

// Value (row, col) of a kLayoutRows matrix; quant/side are the two arrays, nb blocks per row.
template <GgmlType T>
__device__ __forceinline__ float rows_value_at(const uint8_t* quant, const uint8_t* side, uint64_t nb, uint64_t row,
                                               uint64_t col) {
    constexpr RowsGeom g = rows_geom(T);
    const uint64_t b = col / g.elems;
    const uint64_t blk = row * nb + b;
    return rows_value<T>(quant + blk * g.qb, side + blk * g.sb, int(col % g.elems));
}

// ---- kLayoutTile4: one value --------------------------------------------------------------------

// Value (row, col) of a Q4_0 / Q4_K tile matrix with n_chunks 64-column chunks per row tile.
template <GgmlType T>
__device__ __forceinline__ float tile4_value_at(const uint8_t* quant, const uint8_t* side, uint64_t n_chunks,
                                                uint64_t row, uint64_t col) {
    const uint64_t rt = row / kTileRows;
    const uint32_t rr = uint32_t(row % kTileRows);
    const uint64_t c = col / kTileCols;
    const uint32_t kk = uint32_t(col % kTileCols);
    uint32_t shift = 0;
    const uint32_t off = tile4_nibble(rr, kk, shift);
    const int code = (quant[(rt * n_chunks + c) * kTileChunkBytes + off] >> shift) & 0xF;
    if constexpr (T == GgmlType::Q4_0) {
        const uint8_t* sc = side + (rt * n_chunks + c) * kTileQ4_0ScaleBytes;
        const float d = f16_bits_to_f32(ld_u16(sc + tile4_q4_0_scale(rr, kk / 32)));
        return d * float(code - 8);
    } else {
        static_assert(T == GgmlType::Q4_K, "tile4 holds Q4_0 and Q4_K");
        const uint64_t n_sb = n_chunks / 4;
        const uint8_t* head = side + (rt * n_sb + c / 4) * kTileQ4_KHeadBytes + rr * 16;
        int sc, m;
        k4_scale_min_dev(head + 4, int((col % 256) / 32), sc, m);
        const float d1 = f16_bits_to_f32(ld_u16(head)) * float(sc);
        const float m1 = f16_bits_to_f32(ld_u16(head + 2)) * float(m);
        return d1 * float(code) - m1;
    }
}

}  // namespace llcuda::cuda
