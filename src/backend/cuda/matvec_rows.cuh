// Matrix-vector products over kLayoutRows matrices (every type except Q4_0/Q4_K), for 1..8 tokens,
// float32 arithmetic throughout (agrees with the CPU reference to ~1e-6).
//
// Work split: a warp owns R = 2 rows; its 32 lanes walk the rows' "items" (one aligned 16-byte load
// of quants, plus the block's side bytes and, for Q3_K/Q5_K/Q6_K, a second 16-byte load of high
// bits), so one warp instruction reads 512 contiguous bytes per row. The activation values of an
// item are loaded once (float4, L1-resident) and used for both rows and every token. A CTA of 8
// warps holds 8/ks row pairs; the ks warps of a pair split the columns (split-K) when there are too
// few rows to give every SM enough warps, and their partial sums meet in shared memory. x is
// staged in shared memory in lane order (see matvec_rows_kernel), and the launch uses PDL
// (matvec_stream.cuh).
//
// Codes become floats without I2F (quarter rate): a masked field OR-ed into the mantissa of 2^23 and
// the bias subtracted (masked_to_f32), or for 16-bit floats a plain conversion. Each item is split
// into "segments": runs of 4k consecutive values sharing one scale (mul) and one offset (add); the
// segment's codes are dotted with x unscaled and the scale applied once:
//     sum_e (mul * code_e + add) * x_e = mul * sum_e code_e x_e + add * sum_e x_e.
#pragma once

#include <cuda_fp16.h>

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/dequant.cuh"
#include "backend/cuda/matmul_internal.h"
#include "backend/cuda/matvec_stream.cuh"

namespace llcuda::cuda::rows {

__device__ __forceinline__ uint32_t word(const uint4& v, int i) {
    return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
}

// Word i of a small register array, i known only at run time: a select chain, so the array stays in
// registers (a dynamic index would move it to local memory).
__device__ __forceinline__ uint32_t pick(const uint32_t (&s)[5], int i) {
    return i == 0 ? s[0] : i == 1 ? s[1] : i == 2 ? s[2] : i == 3 ? s[3] : s[4];
}
__device__ __forceinline__ uint32_t byte_of(uint32_t w, int b) { return (w >> (8 * b)) & 0xFFu; }

__device__ __forceinline__ float2 half2_bits_to_float2(uint32_t u) {
    __half2 h;
    memcpy(&h, &u, 4);
    return __half22float2(h);
}

// Q4_K/Q5_K 6-bit scale and min j (0..7) from the 12 packed bytes held as three words.
__device__ __forceinline__ void k4_scale_min_words(uint32_t s0, uint32_t s1, uint32_t s2, int j, int& sc, int& m) {
    const int b = j & 3;
    if (j < 4) {
        sc = int(byte_of(s0, b) & 63);
        m = int(byte_of(s1, b) & 63);
    } else {
        sc = int((byte_of(s2, b) & 0xF) | ((byte_of(s0, b) >> 6) << 4));
        m = int((byte_of(s2, b) >> 4) | ((byte_of(s1, b) >> 6) << 4));
    }
}

// Everything one lane loads for one item of one row.
struct Item {
    uint4 q;         // 16 bytes of quants
    uint4 e;         // a second 16-byte load (high bits), when the type has one
    uint32_t s[5];   // side bytes
};

// The side bytes of a block into words (s[i] = bytes 4i..4i+3). Entries are sb bytes apart, so
// they are 2-byte aligned in general and 4/8/16-byte aligned when sb is a multiple of that.
template <uint32_t SB>
__device__ __forceinline__ void load_side(const uint8_t* p, uint32_t (&s)[5]) {
    if constexpr (SB == 16) {
        const uint4 v = __ldg(reinterpret_cast<const uint4*>(p));
        s[0] = v.x, s[1] = v.y, s[2] = v.z, s[3] = v.w;
    } else if constexpr (SB == 8) {
        const uint2 v = __ldg(reinterpret_cast<const uint2*>(p));
        s[0] = v.x, s[1] = v.y;
    } else if constexpr (SB % 4 == 0) {
#pragma unroll
        for (uint32_t i = 0; i < SB / 4; ++i) s[i] = __ldg(reinterpret_cast<const uint32_t*>(p) + i);
    } else {
        const unsigned short* h = reinterpret_cast<const unsigned short*>(p);
#pragma unroll
        for (uint32_t i = 0; i < SB / 2; ++i) {
            const uint32_t v = __ldg(h + i);
            if (i % 2 == 0) s[i / 2] = v;
            else s[i / 2] |= v << 16;
        }
    }
}

__device__ __forceinline__ float4 nib4(uint32_t w, int shift, float bias) {
    // the 4 nibbles at bits shift, shift+8, shift+16, shift+24 (one per byte)
    return make_float4(masked_to_f32((w >> shift) & 0xF, bias), masked_to_f32((w >> (shift + 8)) & 0xF, bias),
                       masked_to_f32((w >> (shift + 16)) & 0xF, bias), masked_to_f32((w >> (shift + 24)) & 0xF, bias));
}
__device__ __forceinline__ float4 iq4x4(uint32_t w, int shift) {
    return make_float4(float(iq4_value((w >> shift) & 0xF)), float(iq4_value((w >> (shift + 8)) & 0xF)),
                       float(iq4_value((w >> (shift + 16)) & 0xF)), float(iq4_value((w >> (shift + 24)) & 0xF)));
}
// 4 bits of `bits` starting at bit `first`, each moved to bit position `to` of byte k (k = 0..3).
__device__ __forceinline__ uint32_t spread4(uint32_t bits, int first, int to) {
    return (((bits >> first) & 1u) << to) | (((bits >> (first + 1)) & 1u) << (to + 8)) |
           (((bits >> (first + 2)) & 1u) << (to + 16)) | (((bits >> (first + 3)) & 1u) << (to + 24));
}
// Byte k of w as a float code after (byte + or) - bias ... for 4 bytes: fields already placed per byte.
__device__ __forceinline__ float4 bytes4(uint32_t fields, float bias) {
    return make_float4(masked_to_f32(fields & 0xFF, bias), masked_to_f32((fields >> 8) & 0xFF, bias),
                       masked_to_f32((fields >> 16) & 0xFF, bias), masked_to_f32(fields >> 24, bias));
}

constexpr float kB = 8388608.0f;  // 2^23

// ---- per-type traits ------------------------------------------------------------------------
// kIPB items per block; kNSeg segments of kSegLen values per item; kHasMin: segments have an add.
// load(qblk, sblk, sub), seg_col(sub, seg): first value of the segment within the block,
// codes(it, sub, seg, i4): values 4*i4..4*i4+3 of the segment, scale(it, sub, seg, mul, add).

template <GgmlType T>
struct Traits;

template <>
struct Traits<GgmlType::F32> {
    static constexpr int kIPB = 1, kNSeg = 1, kSegLen = 4;
    static constexpr bool kHasMin = false, kUnscaled = true;
    __device__ static Item load(const uint8_t* q, const uint8_t*, int) {
        Item it;
        it.q = __ldg(reinterpret_cast<const uint4*>(q));
        return it;
    }
    __device__ static int seg_col(int, int) { return 0; }
    __device__ static float4 codes(const Item& it, int, int, int) {
        return make_float4(__uint_as_float(it.q.x), __uint_as_float(it.q.y), __uint_as_float(it.q.z),
                           __uint_as_float(it.q.w));
    }
    __device__ static void scale(const Item&, int, int, float& mul, float& add) { mul = 1.0f, add = 0.0f; }
};

template <>
struct Traits<GgmlType::F16> {
    static constexpr int kIPB = 1, kNSeg = 1, kSegLen = 8;
    static constexpr bool kHasMin = false, kUnscaled = true;
    __device__ static Item load(const uint8_t* q, const uint8_t*, int) {
        Item it;
        it.q = __ldg(reinterpret_cast<const uint4*>(q));
        return it;
    }
    __device__ static int seg_col(int, int) { return 0; }
    __device__ static float4 codes(const Item& it, int, int, int i4) {
        const float2 a = half2_bits_to_float2(i4 ? it.q.z : it.q.x);
        const float2 b = half2_bits_to_float2(i4 ? it.q.w : it.q.y);
        return make_float4(a.x, a.y, b.x, b.y);
    }
    __device__ static void scale(const Item&, int, int, float& mul, float& add) { mul = 1.0f, add = 0.0f; }
};

template <>
struct Traits<GgmlType::BF16> {
    static constexpr int kIPB = 1, kNSeg = 1, kSegLen = 8;
    static constexpr bool kHasMin = false, kUnscaled = true;
    __device__ static Item load(const uint8_t* q, const uint8_t*, int) {
        Item it;
        it.q = __ldg(reinterpret_cast<const uint4*>(q));
        return it;
    }
    __device__ static int seg_col(int, int) { return 0; }
    __device__ static float4 codes(const Item& it, int, int, int i4) {
        const uint32_t a = i4 ? it.q.z : it.q.x, b = i4 ? it.q.w : it.q.y;
        return make_float4(__uint_as_float(a << 16), __uint_as_float(a & 0xFFFF0000u), __uint_as_float(b << 16),
                           __uint_as_float(b & 0xFFFF0000u));
    }
    __device__ static void scale(const Item&, int, int, float& mul, float& add) { mul = 1.0f, add = 0.0f; }
};

// The 32-value legacy blocks: one item = the block; segment 0 = low nibbles (values 0..15),
// segment 1 = high nibbles (values 16..31); word i4 of the quants holds values 4*i4..4*i4+3.
template <GgmlType T>
struct Legacy32 {
    static constexpr int kIPB = 1, kNSeg = 2, kSegLen = 16;
    static constexpr bool kHasMin = T == GgmlType::Q4_1 || T == GgmlType::Q5_1;
    static constexpr bool kUnscaled = false;
    __device__ static Item load(const uint8_t* q, const uint8_t* s, int) {
        Item it;
        it.q = __ldg(reinterpret_cast<const uint4*>(q));
        load_side<rows_geom(T).sb>(s, it.s);
        return it;
    }
    __device__ static int seg_col(int, int seg) { return 16 * seg; }
    __device__ static float4 codes(const Item& it, int, int seg, int i4) {
        const uint32_t w = word(it.q, i4);
        const int sh = 4 * seg;
        if constexpr (T == GgmlType::IQ4_NL) {
            return iq4x4(w, sh);
        } else if constexpr (T == GgmlType::Q4_1) {
            return nib4(w, sh, kB);
        } else {
            // Q5: bit (16*seg + 4*i4 + k) of qh is bit 4 of value k
            const uint32_t qh = T == GgmlType::Q5_0 ? (it.s[0] >> 16) | (it.s[1] << 16) : it.s[1];
            const uint32_t f = ((w >> sh) & 0x0F0F0F0Fu) | spread4(qh, 16 * seg + 4 * i4, 4);
            return bytes4(f, T == GgmlType::Q5_0 ? kB + 16.0f : kB);
        }
    }
    __device__ static void scale(const Item& it, int, int, float& mul, float& add) {
        mul = f16_bits_to_f32(it.s[0]);
        add = kHasMin ? f16_bits_to_f32(it.s[0] >> 16) : 0.0f;
    }
};
template <> struct Traits<GgmlType::Q4_1> : Legacy32<GgmlType::Q4_1> {};
template <> struct Traits<GgmlType::Q5_0> : Legacy32<GgmlType::Q5_0> {};
template <> struct Traits<GgmlType::Q5_1> : Legacy32<GgmlType::Q5_1> {};
template <> struct Traits<GgmlType::IQ4_NL> : Legacy32<GgmlType::IQ4_NL> {};

// Q8_0: two items per block, 16 signed bytes each.
template <>
struct Traits<GgmlType::Q8_0> {
    static constexpr int kIPB = 2, kNSeg = 1, kSegLen = 16;
    static constexpr bool kHasMin = false, kUnscaled = false;
    __device__ static Item load(const uint8_t* q, const uint8_t* s, int sub) {
        Item it;
        it.q = __ldg(reinterpret_cast<const uint4*>(q + 16 * sub));
        load_side<2>(s, it.s);
        return it;
    }
    __device__ static int seg_col(int sub, int) { return 16 * sub; }
    __device__ static float4 codes(const Item& it, int, int, int i4) {
        return bytes4(word(it.q, i4) ^ 0x80808080u, kB + 128.0f);  // signed byte + 128, unsigned
    }
    __device__ static void scale(const Item& it, int, int, float& mul, float& add) {
        mul = f16_bits_to_f32(it.s[0]);
        add = 0.0f;
    }
};

// Q2_K: item sub = 16 bytes of qs (h = sub/2 half of the block, bytes 16*(sub%2)..); segment s =
// bit pair 2s: values 128h + 32s + 16(sub%2) + j; scale byte 8h + 2s + sub%2 (low 4 bits: scale,
// high: min).
template <>
struct Traits<GgmlType::Q2_K> {
    static constexpr int kIPB = 4, kNSeg = 4, kSegLen = 16;
    static constexpr bool kHasMin = true, kUnscaled = false;
    __device__ static Item load(const uint8_t* q, const uint8_t* s, int sub) {
        Item it;
        it.q = __ldg(reinterpret_cast<const uint4*>(q + 16 * sub));
        load_side<20>(s, it.s);
        return it;
    }
    __device__ static int seg_col(int sub, int seg) { return 128 * (sub / 2) + 32 * seg + 16 * (sub % 2); }
    __device__ static float4 codes(const Item& it, int, int seg, int i4) {
        return bytes4((word(it.q, i4) >> (2 * seg)) & 0x03030303u, kB);
    }
    __device__ static void scale(const Item& it, int sub, int seg, float& mul, float& add) {
        const int idx = 8 * (sub / 2) + 2 * seg + (sub % 2);
        const uint32_t sc = byte_of(pick(it.s, idx / 4), idx % 4);
        mul = f16_bits_to_f32(it.s[4]) * float(sc & 0xF);
        add = -(f16_bits_to_f32(it.s[4] >> 16) * float(sc >> 4));
    }
};

// Q3_K: like Q2_K for the low 2 bits; the third bit of value 128h + 32s + 16(sub%2) + j is bit
// 4h + s of hmask byte 16(sub%2) + j (the second 16-byte load).
template <>
struct Traits<GgmlType::Q3_K> {
    static constexpr int kIPB = 4, kNSeg = 4, kSegLen = 16;
    static constexpr bool kHasMin = false, kUnscaled = false;
    __device__ static Item load(const uint8_t* q, const uint8_t* s, int sub) {
        Item it;
        it.q = __ldg(reinterpret_cast<const uint4*>(q + 32 + 16 * sub));
        it.e = __ldg(reinterpret_cast<const uint4*>(q + 16 * (sub % 2)));
        load_side<14>(s, it.s);
        return it;
    }
    __device__ static int seg_col(int sub, int seg) { return 128 * (sub / 2) + 32 * seg + 16 * (sub % 2); }
    __device__ static float4 codes(const Item& it, int sub, int seg, int i4) {
        const int hb = 4 * (sub / 2) + seg;
        const uint32_t f = ((word(it.q, i4) >> (2 * seg)) & 0x03030303u) | (((word(it.e, i4) >> hb) & 0x01010101u) << 2);
        return bytes4(f, kB + 4.0f);  // low2 + 4*hbit - 4
    }
    __device__ static void scale(const Item& it, int sub, int seg, float& mul, float& add) {
        // q3k_scale_dev on the words: low 4 bits in the nibbles of bytes 0..7, high 2 in bytes 8..11
        const int k = 8 * (sub / 2) + 2 * seg + (sub % 2);
        const int bi = k & 7;
        const uint32_t lowbyte = byte_of(bi < 4 ? it.s[0] : it.s[1], bi & 3);
        const int low = int(k < 8 ? (lowbyte & 0xF) : (lowbyte >> 4));
        const int high = int((byte_of(it.s[2], k % 4) >> (2 * (k / 4))) & 3);
        mul = f16_bits_to_f32(it.s[3]) * float((low | (high << 4)) - 32);
        add = 0.0f;
    }
};

// Q4_K / Q5_K: item sub = qs bytes 16*sub.. (c = sub/2 chunk of 64 values, half = sub%2); segment 0
// = low nibbles, values 64c + 16half + j (sub-block 2c); segment 1 = high nibbles, 32 further
// (sub-block 2c+1). Q5_K's fifth bit: bit 2c (+1) of qh byte 16half + j.
template <GgmlType T>
struct KQuant45 {
    static constexpr bool kQ5 = T == GgmlType::Q5_K;
    static constexpr int kIPB = 8, kNSeg = 2, kSegLen = 16;
    static constexpr bool kHasMin = true, kUnscaled = false;
    __device__ static Item load(const uint8_t* q, const uint8_t* s, int sub) {
        Item it;
        it.q = __ldg(reinterpret_cast<const uint4*>(q + (kQ5 ? 32 : 0) + 16 * sub));
        if constexpr (kQ5) it.e = __ldg(reinterpret_cast<const uint4*>(q + 16 * (sub % 2)));
        load_side<16>(s, it.s);
        return it;
    }
    __device__ static int seg_col(int sub, int seg) { return 64 * (sub / 2) + 32 * seg + 16 * (sub % 2); }
    __device__ static float4 codes(const Item& it, int sub, int seg, int i4) {
        uint32_t f = (word(it.q, i4) >> (4 * seg)) & 0x0F0F0F0Fu;
        if constexpr (kQ5) f |= ((word(it.e, i4) >> (2 * (sub / 2) + seg)) & 0x01010101u) << 4;
        return bytes4(f, kB);
    }
    __device__ static void scale(const Item& it, int sub, int seg, float& mul, float& add) {
        int sc, m;
        k4_scale_min_words(it.s[1], it.s[2], it.s[3], 2 * (sub / 2) + seg, sc, m);
        mul = f16_bits_to_f32(it.s[0]) * float(sc);
        add = -(f16_bits_to_f32(it.s[0] >> 16) * float(m));
    }
};
template <> struct Traits<GgmlType::Q4_K> : KQuant45<GgmlType::Q4_K> {};
template <> struct Traits<GgmlType::Q5_K> : KQuant45<GgmlType::Q5_K> {};

// Q6_K: item sub = ql bytes 16*sub.. (h = sub/4, jj = (sub/2)%2, l0 = 16(sub%2)); segment 0 = low
// nibbles, values 128h + 32jj + l0 + i with high bits at 2jj of qh byte 32h + l0 + i; segment 1 =
// high nibbles, 64 further, high bits at 2jj + 4. Scale index = first value / 16; only the two
// scale bytes and d an item needs are loaded (s[0], s[1], s[2]).
template <>
struct Traits<GgmlType::Q6_K> {
    static constexpr int kIPB = 8, kNSeg = 2, kSegLen = 16;
    static constexpr bool kHasMin = false, kUnscaled = false;
    __device__ static int seg_col(int sub, int seg) {
        return 128 * (sub / 4) + 64 * seg + 32 * ((sub / 2) % 2) + 16 * (sub % 2);
    }
    __device__ static Item load(const uint8_t* q, const uint8_t* s, int sub) {
        Item it;
        it.q = __ldg(reinterpret_cast<const uint4*>(q + 16 * sub));
        it.e = __ldg(reinterpret_cast<const uint4*>(q + 128 + 32 * (sub / 4) + 16 * (sub % 2)));
        const int idx = seg_col(sub, 0) / 16;
        it.s[0] = __ldg(s + idx);
        it.s[1] = __ldg(s + idx + 4);
        it.s[2] = __ldg(reinterpret_cast<const unsigned short*>(s + 16));
        return it;
    }
    __device__ static float4 codes(const Item& it, int sub, int seg, int i4) {
        const int hs = 2 * ((sub / 2) % 2) + 4 * seg;
        const uint32_t f = ((word(it.q, i4) >> (4 * seg)) & 0x0F0F0F0Fu) | (((word(it.e, i4) >> hs) & 0x03030303u) << 4);
        return bytes4(f, kB + 32.0f);
    }
    __device__ static void scale(const Item& it, int, int seg, float& mul, float& add) {
        const int sc = static_cast<int8_t>(seg ? it.s[1] : it.s[0]);
        mul = f16_bits_to_f32(it.s[2]) * float(sc);
        add = 0.0f;
    }
};

// IQ4_XS: item = one 32-value sub-block ib (qs bytes 16*ib..), segments = low / high nibbles.
template <>
struct Traits<GgmlType::IQ4_XS> {
    static constexpr int kIPB = 8, kNSeg = 2, kSegLen = 16;
    static constexpr bool kHasMin = false, kUnscaled = false;
    __device__ static Item load(const uint8_t* q, const uint8_t* s, int sub) {
        Item it;
        it.q = __ldg(reinterpret_cast<const uint4*>(q + 16 * sub));
        load_side<8>(s, it.s);
        return it;
    }
    __device__ static int seg_col(int sub, int seg) { return 32 * sub + 16 * seg; }
    __device__ static float4 codes(const Item& it, int, int seg, int i4) { return iq4x4(word(it.q, i4), 4 * seg); }
    __device__ static void scale(const Item& it, int sub, int, float& mul, float& add) {
        const uint32_t scales_h = it.s[0] >> 16, scales_l = it.s[1];
        const int ls = int((scales_l >> (4 * sub)) & 0xF) | int(((scales_h >> (2 * sub)) & 3) << 4);
        mul = f16_bits_to_f32(it.s[0]) * float(ls - 32);
        add = 0.0f;
    }
};

// ---- the kernel -------------------------------------------------------------------------------

inline constexpr int kRowsPerWarp = 2;

// Items per row a lane loads ahead (16-byte items hold 4..64 values; the small ones need more).
template <GgmlType T>
inline constexpr int kUnroll = T == GgmlType::F32 || T == GgmlType::F16 || T == GgmlType::BF16 ? 4 : 2;
inline constexpr int kThreads = 256;

__device__ __forceinline__ float4 load_x4(const float* p, uint32_t col, uint32_t n_cols, bool x_vec) {
    if (x_vec) return __ldg(reinterpret_cast<const float4*>(p + col));
    float v[4];
#pragma unroll
    for (int k = 0; k < 4; ++k) v[k] = col + k < n_cols ? __ldg(p + col + k) : 0.0f;
    return make_float4(v[0], v[1], v[2], v[3]);
}

// Kernel arguments (one struct: fewer parameters to pass through the launch helpers).
struct RowsArgs {
    const uint8_t* quant;
    const uint8_t* side;
    uint64_t nb;           // blocks per row
    uint32_t n_rows, n_cols;
    const float* x;        // (nt, n_cols)
    uint32_t nt;
    float* y;              // (nt, n_rows)
    int ks_log2;           // warps per row pair = 1 << ks_log2
    uint32_t n_grp;        // row groups (pairs_per_cta row pairs each); CTA b takes b, b + grid, ...
    bool x_vec;            // x rows (and nw) 16-byte aligned, n_cols % 4 == 0
    bool accumulate;       // y += product
    const float* nw;       // RMSNorm weight (n_cols) or nullptr
    float eps;
};

// Staged (x fits in shared memory, the usual case): the CTA first copies x, times nw under Norm,
// into shared memory in the order the lanes read it, [token][seg][i4][item]: at a fixed (seg, i4)
// the 32 lanes of a warp (consecutive items) read 32 consecutive float4, four 128-byte
// wavefronts. Read from global memory in the items' own column order, the same warp instruction
// touches up to 16 lines (Q6_K: an item's four values of a segment sit 16 columns from its
// neighbour's), and with the norm weight read the same way the L1 traffic, not DRAM, bounded the
// kernel. Norm: the staging also sums each token's x^2 (block reduction) for 1 / rms, applied to
// the finished dot products (a scalar per token commutes with the product):
// y = inv_rms * (W · (x * nw)).
// Unstaged (too many tokens x columns): x (and nw) are read through L1 as before; under Norm the ks
// warps of a row pair, which see every column once, also sum x^2.
// Groups: with many rows a CTA handles several row groups one after another (one staging).
template <GgmlType T, int MaxT, bool Norm, bool Staged>
__global__ void __launch_bounds__(kThreads) matvec_rows_kernel(const RowsArgs a) {
    using Tr = Traits<T>;
    constexpr RowsGeom G = rows_geom(T);
    constexpr int R = kRowsPerWarp;
    constexpr uint32_t kQ = Tr::kNSeg * (Tr::kSegLen / 4);  // float4 groups per item
    extern __shared__ float4 xs[];                          // Staged: (nt, kQ * n_items)
    __shared__ float red[kThreads / 32][R][MaxT];
    __shared__ float red_sq[kThreads / 32][MaxT];
    __shared__ float inv_rms[MaxT];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int ks = 1 << a.ks_log2;
    const int pair = warp >> a.ks_log2, kw = warp & (ks - 1);
    const int pairs_per_cta = (kThreads / 32) >> a.ks_log2;
    const uint32_t n_items = uint32_t(a.nb) * Tr::kIPB;
    const uint32_t n4 = kQ * n_items;  // float4 per staged token

    pdl_wait();  // x is the previous kernel's output
    pdl_launch_dependents();

    if constexpr (Staged) {
        for (uint32_t t = 0; t < a.nt; ++t) {
            float ss = 0.0f;
            const float* xr = a.x + uint64_t(t) * a.n_cols;
            for (uint32_t v = threadIdx.x; v < n4; v += kThreads) {
                const uint32_t q = v / n_items, item = v - q * n_items;
                const int seg = int(q / (Tr::kSegLen / 4)), i4 = int(q % (Tr::kSegLen / 4));
                const uint32_t col = (item / Tr::kIPB) * G.elems + Tr::seg_col(int(item % Tr::kIPB), seg) + 4 * i4;
                float4 xv = load_x4(xr, col, a.n_cols, a.x_vec);
                if constexpr (Norm) {
                    const float4 w = load_x4(a.nw, col, a.n_cols, a.x_vec);
                    ss = fmaf(xv.x, xv.x, fmaf(xv.y, xv.y, fmaf(xv.z, xv.z, fmaf(xv.w, xv.w, ss))));
                    xv = make_float4(xv.x * w.x, xv.y * w.y, xv.z * w.z, xv.w * w.w);
                }
                xs[uint64_t(t) * n4 + v] = xv;
            }
            if constexpr (Norm) {
#pragma unroll
                for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xFFFFFFFFu, ss, o);
                if (lane == 0 && t < uint32_t(MaxT)) red_sq[warp][t] = ss;
            }
        }
        __syncthreads();
        if constexpr (Norm) {
            if (threadIdx.x < a.nt) {
                float ss = 0.0f;
                for (int k = 0; k < kThreads / 32; ++k) ss += red_sq[k][threadIdx.x];
                inv_rms[threadIdx.x] = 1.0f / sqrtf(ss / float(a.n_cols) + a.eps);
            }
        }
    }

    const float* xt[MaxT];
#pragma unroll
    for (int t = 0; t < MaxT; ++t) xt[t] = a.x + uint64_t(min(uint32_t(t), a.nt - 1)) * a.n_cols;

    for (uint32_t grp = blockIdx.x; grp < a.n_grp; grp += gridDim.x) {
        const uint64_t row0 = (uint64_t(grp) * pairs_per_cta + pair) * R;
        uint64_t rows[R];
#pragma unroll
        for (int r = 0; r < R; ++r) rows[r] = row0 + r < a.n_rows ? row0 + r : a.n_rows - 1;  // clamp: read, don't write

        float acc[R][MaxT];
#pragma unroll
        for (int r = 0; r < R; ++r)
#pragma unroll
            for (int t = 0; t < MaxT; ++t) acc[r][t] = 0.0f;
        float sq[MaxT];  // unstaged Norm: sum of x^2 over this lane's columns
#pragma unroll
        for (int t = 0; t < MaxT; ++t) sq[t] = 0.0f;

        // U items per row in flight per lane (their loads issued before any is used): ~64-128 bytes
        // per lane, enough with 16+ warps per SM to cover DRAM latency. Fewer at 4-8 tokens (registers).
        constexpr int U = MaxT <= 2 ? kUnroll<T> : 1;
        const uint32_t stride = uint32_t(ks) * 32;
        for (uint32_t i0 = uint32_t(kw) * 32 + lane; i0 < n_items; i0 += U * stride) {
            Item it[U][R];
#pragma unroll
            for (int u = 0; u < U; ++u) {
                const uint32_t i = i0 + u * stride;
                if (u > 0 && i >= n_items) break;
                const uint32_t b = i / Tr::kIPB;
                const int sub = int(i % Tr::kIPB);
#pragma unroll
                for (int r = 0; r < R; ++r) {
                    const uint64_t blk = rows[r] * a.nb + b;
                    it[u][r] = Tr::load(a.quant + blk * G.qb, a.side + blk * G.sb, sub);
                }
            }
#pragma unroll
            for (int u = 0; u < U; ++u) {
                const uint32_t i = i0 + u * stride;
                if (u > 0 && i >= n_items) break;
                const uint32_t b = i / Tr::kIPB;
                const int sub = int(i % Tr::kIPB);
                const uint32_t col_base = b * G.elems;
#pragma unroll
                for (int seg = 0; seg < Tr::kNSeg; ++seg) {
                    float part[R][MaxT], sx[MaxT];
#pragma unroll
                    for (int t = 0; t < MaxT; ++t) {
                        sx[t] = 0.0f;
#pragma unroll
                        for (int r = 0; r < R; ++r) part[r][t] = 0.0f;
                    }
#pragma unroll
                    for (int i4 = 0; i4 < Tr::kSegLen / 4; ++i4) {
                        float4 xv[MaxT];
                        if constexpr (Staged) {
                            const uint32_t v = uint32_t(seg * (Tr::kSegLen / 4) + i4) * n_items + i;
#pragma unroll
                            for (int t = 0; t < MaxT; ++t) xv[t] = xs[uint64_t(min(uint32_t(t), a.nt - 1)) * n4 + v];
                        } else {
                            const uint32_t col = col_base + Tr::seg_col(sub, seg) + 4 * i4;
                            float4 nv;
                            if constexpr (Norm) nv = load_x4(a.nw, col, a.n_cols, a.x_vec);
#pragma unroll
                            for (int t = 0; t < MaxT; ++t) {
                                xv[t] = load_x4(xt[t], col, a.n_cols, a.x_vec);
                                if constexpr (Norm) {
                                    float q = sq[t];
                                    q = fmaf(xv[t].x, xv[t].x, q);
                                    q = fmaf(xv[t].y, xv[t].y, q);
                                    q = fmaf(xv[t].z, xv[t].z, q);
                                    q = fmaf(xv[t].w, xv[t].w, q);
                                    sq[t] = q;
                                    xv[t] = make_float4(xv[t].x * nv.x, xv[t].y * nv.y, xv[t].z * nv.z, xv[t].w * nv.w);
                                }
                            }
                        }
                        if constexpr (Tr::kHasMin) {
#pragma unroll
                            for (int t = 0; t < MaxT; ++t) sx[t] += (xv[t].x + xv[t].y) + (xv[t].z + xv[t].w);
                        }
#pragma unroll
                        for (int r = 0; r < R; ++r) {
                            const float4 c = Tr::codes(it[u][r], sub, seg, i4);
#pragma unroll
                            for (int t = 0; t < MaxT; ++t) {
                                float p = part[r][t];
                                p = fmaf(c.x, xv[t].x, p);
                                p = fmaf(c.y, xv[t].y, p);
                                p = fmaf(c.z, xv[t].z, p);
                                p = fmaf(c.w, xv[t].w, p);
                                part[r][t] = p;
                            }
                        }
                    }
#pragma unroll
                    for (int r = 0; r < R; ++r) {
                        if constexpr (Tr::kUnscaled) {
#pragma unroll
                            for (int t = 0; t < MaxT; ++t) acc[r][t] += part[r][t];
                        } else {
                            float mul, add;
                            Tr::scale(it[u][r], sub, seg, mul, add);
#pragma unroll
                            for (int t = 0; t < MaxT; ++t) {
                                acc[r][t] = fmaf(mul, part[r][t], acc[r][t]);
                                if constexpr (Tr::kHasMin) acc[r][t] = fmaf(add, sx[t], acc[r][t]);
                            }
                        }
                    }
                }
            }
        }

        // Warp sums, then the ks column-slices of each row pair meet in shared memory.
#pragma unroll
        for (int r = 0; r < R; ++r)
#pragma unroll
            for (int t = 0; t < MaxT; ++t) {
                float v = acc[r][t];
#pragma unroll
                for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xFFFFFFFFu, v, o);
                if (lane == 0) red[warp][r][t] = v;
            }
        if constexpr (Norm && !Staged) {  // one CTA = one group here (the launcher's choice)
            if (pair == 0) {
#pragma unroll
                for (int t = 0; t < MaxT; ++t) {
                    float v = sq[t];
#pragma unroll
                    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xFFFFFFFFu, v, o);
                    if (lane == 0) red_sq[kw][t] = v;
                }
            }
            __syncthreads();
            if (threadIdx.x < MaxT) {
                float ss = 0.0f;
                for (int k = 0; k < ks; ++k) ss += red_sq[k][threadIdx.x];
                inv_rms[threadIdx.x] = 1.0f / sqrtf(ss / float(a.n_cols) + a.eps);
            }
        }
        __syncthreads();
        for (int idx = threadIdx.x; idx < pairs_per_cta * R * MaxT; idx += kThreads) {
            const int p = idx / (R * MaxT), r = (idx / MaxT) % R, t = idx % MaxT;
            const uint64_t row = (uint64_t(grp) * pairs_per_cta + p) * R + r;
            if (row >= a.n_rows || uint32_t(t) >= a.nt) continue;
            float v = 0.0f;
            for (int k = 0; k < ks; ++k) v += red[p * ks + k][r][t];
            if constexpr (Norm) v *= inv_rms[t];
            float* dst = a.y + uint64_t(t) * a.n_rows + row;
            *dst = a.accumulate ? *dst + v : v;
        }
        __syncthreads();  // red is rewritten by the next group
    }
}

// Largest staged x (bytes of dynamic shared memory) before the unstaged path is taken, and room
// left for the kernel's static shared memory (red, red_sq, inv_rms: under 1 KB).
inline constexpr uint32_t kMaxStageBytes = 96 * 1024;
inline constexpr uint32_t kStaticSmemSlack = 2048;
// Staging pays when a CTA streams at least this many times the staged bytes of weights (measured on
// an H200: 16 rows of 4096 Q6_K/Q8_0 columns per CTA gain, 8 rows of 14336 or 4 rows of 4096 lose).
inline constexpr uint64_t kStageMinRatio = 3;

template <GgmlType T, int MaxT, bool Norm, bool Staged>
void launch_rows_variant(unsigned grid, uint32_t smem, const RowsArgs& a, cudaStream_t stream) {
    auto kernel = matvec_rows_kernel<T, MaxT, Norm, Staged>;
    // Above 48 KB (dynamic plus the kernel's ~1 KB of static shared memory) a kernel needs the
    // opt-in; a host-side attribute (no stream work, so also fine while a graph is being captured).
    if (smem + kStaticSmemSlack > 48 * 1024)
        CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
    launch_stream_kernel(kernel, dim3(grid), dim3(kThreads), smem, stream, "matvec_rows_kernel", a);
}

template <GgmlType T, int MaxT>
void launch_rows_n(unsigned grid, uint32_t smem, bool staged, const RowsArgs& a, cudaStream_t stream) {
    const bool norm = a.nw != nullptr;
    if (staged) {
        if (norm) launch_rows_variant<T, MaxT, true, true>(grid, smem, a, stream);
        else launch_rows_variant<T, MaxT, false, true>(grid, smem, a, stream);
    } else {
        if (norm) launch_rows_variant<T, MaxT, true, false>(grid, 0, a, stream);
        else launch_rows_variant<T, MaxT, false, false>(grid, 0, a, stream);
    }
}

// Picks the split-K factor, staging and grid, and launches the instantiation for n_tokens.
template <GgmlType T>
void launch_rows(const DeviceMatrix& w, const float* x, uint32_t nt, float* y, const MatmulFusion& f,
                 cudaStream_t stream) {
    const uint64_t nb = rows_blocks_per_row(T, w.n_cols);
    const uint64_t n_items = nb * Traits<T>::kIPB;
    const uint64_t warps_base = (w.n_rows + kRowsPerWarp - 1) / kRowsPerWarp;
    const DeviceLimits& dev = device_limits();
    const uint64_t want = uint64_t(dev.sm_count) * 16;  // ~16 warps streaming per SM
    int ks_log2 = 0;
    while (ks_log2 < 3 && warps_base << ks_log2 < want && n_items >= (uint64_t(64) << ks_log2)) ++ks_log2;
    const uint64_t rows_per_cta = uint64_t((kThreads / 32) >> ks_log2) * kRowsPerWarp;
    RowsArgs a{};
    a.quant = w.data;
    a.side = w.data + w.aux_offset;
    a.nb = nb;
    a.n_rows = uint32_t(w.n_rows);
    a.n_cols = uint32_t(w.n_cols);
    a.x = x;
    a.nt = nt;
    a.y = y;
    a.ks_log2 = ks_log2;
    a.n_grp = uint32_t((w.n_rows + rows_per_cta - 1) / rows_per_cta);
    a.x_vec = a.n_cols % 4 == 0 && reinterpret_cast<uintptr_t>(x) % 16 == 0 &&
              reinterpret_cast<uintptr_t>(f.norm_weight) % 16 == 0;
    a.accumulate = f.accumulate;
    a.nw = f.norm_weight;
    a.eps = f.norm_eps;
    // Staged x: nt * n_cols (padded) floats in shared memory, if they fit the budget and the device,
    // and either the norm is fused (unstaged, the norm weight doubles the L1 traffic) or the CTA
    // streams enough weights to repay the staging. A staged CTA takes several row groups when
    // there are many (one staging for all of them): about 8 CTAs per SM, each the same number of
    // groups.
    const uint64_t stage_bytes = uint64_t(nt) * nb * rows_geom(T).elems * 4;
    const uint64_t max_grid = uint64_t(dev.sm_count) * 8;
    const uint64_t per_cta = (a.n_grp + max_grid - 1) / max_grid;
    const uint64_t cta_weight_bytes = rows_per_cta * per_cta * nb * (rows_geom(T).qb + rows_geom(T).sb);
    const bool fits = stage_bytes <= std::min<uint64_t>(kMaxStageBytes, dev.smem_optin - kStaticSmemSlack);
    const bool staged = stream_knobs().rows_stage && fits &&
                        (f.norm_weight != nullptr || cta_weight_bytes >= kStageMinRatio * stage_bytes);
    const unsigned grid = staged ? unsigned((a.n_grp + per_cta - 1) / per_cta) : a.n_grp;
    const uint32_t smem = staged ? uint32_t(stage_bytes) : 0;
    if (nt == 1) launch_rows_n<T, 1>(grid, smem, staged, a, stream);
    else if (nt == 2) launch_rows_n<T, 2>(grid, smem, staged, a, stream);
    else if (nt <= 4) launch_rows_n<T, 4>(grid, smem, staged, a, stream);
    else launch_rows_n<T, 8>(grid, smem, staged, a, stream);
}

// The instantiations live in three files (compile time); each handles its types and returns false
// for the others.
bool launch_rows_float(const DeviceMatrix& w, const float* x, uint32_t nt, float* y, const MatmulFusion& f, cudaStream_t stream);
bool launch_rows_legacy(const DeviceMatrix& w, const float* x, uint32_t nt, float* y, const MatmulFusion& f, cudaStream_t stream);
bool launch_rows_kquant(const DeviceMatrix& w, const float* x, uint32_t nt, float* y, const MatmulFusion& f, cudaStream_t stream);

}  // namespace llcuda::cuda::rows
