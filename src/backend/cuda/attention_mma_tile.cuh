// The products of one K/V tile in the tensor-core attention kernel (ops_attention_mma.cu), for one
// warp's 16 query rows and its KW keys of the tile: S = Q K^T and O += P V (mma.m16n8k16, f16 in,
// f32 out), read either from an f16 stage (f16 caches; q8_0 prefill after its conversion pass) or,
// in the q8_0 decode configuration, straight from the raw int8 stage. C is the kernel's MmaCfg;
// q_frag(kk, a) gives the A fragment of Q for k-step kk (16 dims) in the order the K operand uses.
// Fragment notation as in mma_f16.cuh: lane = 4g + t.
#pragma once

#include <cuda_fp16.h>

#include <cstdint>
#include <cstring>

#include "backend/cuda/async_copy.cuh"
#include "backend/cuda/mma_f16.cuh"

namespace llcuda::cuda::attn_tile {

// Eight q8_0 quants (one uint2, element 0 in the low byte) times their block's scale, as eight
// halves (element 0 in the low half of .x). Each int8 q, offset to q + 128, becomes the low byte
// of the half 1024 + q + 128 (one byte permute per pair); subtracting 1152 gives q exactly, and
// the product with the scale is rounded once (to f16, like q and P: 2^-11 relative at most).
__device__ __forceinline__ uint4 dequant_q8x8(uint2 quants, __half scale) {
    const __half2 s2 = __half2half2(scale);
    const __half2 bias = __float2half2_rn(1152.0f);
    const uint32_t lo = quants.x ^ 0x80808080u, hi = quants.y ^ 0x80808080u;
    const uint32_t w[4] = {__byte_perm(lo, 0x64646464u, 0x5140u), __byte_perm(lo, 0x64646464u, 0x5342u),
                           __byte_perm(hi, 0x64646464u, 0x5140u), __byte_perm(hi, 0x64646464u, 0x5342u)};
    uint32_t r[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        __half2 h;
        memcpy(&h, &w[i], 4);
        h = __hmul2(__hsub2(h, bias), s2);
        memcpy(&r[i], &h, 4);
    }
    return make_uint4(r[0], r[1], r[2], r[3]);
}

// Two q8_0 quants of a word (offset to q + 128: the word XOR 0x80808080) times their scales, as
// one f16x2 register: `sel` is the byte permute that puts the two bytes under the exponent byte
// 0x64 (selectors 4-7), e.g. 0x5140 bytes 0 and 1, 0x5240 bytes 0 and 2. The same arithmetic as
// dequant_q8x8 (exact q, one rounding of q * scale), so both q8_0 paths see the same values.
__device__ __forceinline__ uint32_t q8_pair_to_half2(uint32_t offset_quants, uint32_t sel, __half2 scales) {
    const uint32_t w = __byte_perm(offset_quants, 0x64646464u, sel);
    __half2 h;
    memcpy(&h, &w, 4);
    h = __hmul2(__hsub2(h, __float2half2_rn(1152.0f)), scales);
    uint32_t r;
    memcpy(&r, &h, 4);
    return r;
}

// Two floats as one f16x2 register, `lo` in the low half (the lower column of a fragment).
__device__ __forceinline__ uint32_t pack_half2(float lo, float hi) {
    const __half2 h = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&h);
}

// ---- f16 stage: rows of LD halves --------------------------------------------------------------

// S (16 x KW) = Q K^T. K rows are the B operand's columns: ldmatrix x4 of keys (0-7 | 8-15) x dims
// (0-7 | 8-15) gives b0, b1 of two n-tiles.
template <class C, class QFrag>
__device__ __forceinline__ void qk_f16_stage(const __half* sk, uint32_t wk, uint32_t lane, QFrag&& q_frag,
                                             float (&s)[C::KW / 8][4]) {
    constexpr int KW = C::KW, LD = C::LD;
    const __half* k_lane = sk + (wk * KW + (lane & 7) + (lane >> 4) * 8) * LD + ((lane >> 3) & 1) * 8;
#pragma unroll
    for (int kk = 0; kk < C::kD / 16; ++kk) {
        uint32_t af[4];
        q_frag(kk, af);
#pragma unroll
        for (int n2 = 0; n2 < KW / 16; ++n2) {
            uint32_t b[4];
            ldsm_x4(b, k_lane + n2 * 16 * LD + kk * 16);
            mma_f16_16816(s[2 * n2], af, b[0], b[1]);
            mma_f16_16816(s[2 * n2 + 1], af, b[2], b[3]);
        }
    }
}

// O (16 x D) += P V. P's A fragment for keys 16 k2 .. +15 is S's two n-tiles 2 k2, 2 k2 + 1; V rows
// (keys) are the B operand's k: ldmatrix.trans x4 of keys (0-7 | 8-15) x dims (0-7 | 8-15) gives
// b0, b1 of two n-tiles. o[n-tile] covers dims 8 n-tile .. + 7.
template <class C>
__device__ __forceinline__ void pv_f16_stage(const __half* sv, uint32_t wk, uint32_t lane,
                                             const float (&p)[C::KW / 8][4], float (&o)[C::kD / 8][4]) {
    constexpr int KW = C::KW, LD = C::LD;
    const __half* v_lane = sv + (wk * KW + (lane & 7) + ((lane >> 3) & 1) * 8) * LD + (lane >> 4) * 8;
#pragma unroll
    for (int k2 = 0; k2 < KW / 16; ++k2) {
        const uint32_t pa[4] = {pack_half2(p[2 * k2][0], p[2 * k2][1]), pack_half2(p[2 * k2][2], p[2 * k2][3]),
                                pack_half2(p[2 * k2 + 1][0], p[2 * k2 + 1][1]),
                                pack_half2(p[2 * k2 + 1][2], p[2 * k2 + 1][3])};
#pragma unroll
        for (int nd = 0; nd < C::kD / 16; ++nd) {
            uint32_t b[4];
            ldsm_x4_trans(b, v_lane + k2 * 16 * LD + nd * 16);
            mma_f16_16816(o[2 * nd], pa, b[0], b[1]);
            mma_f16_16816(o[2 * nd + 1], pa, b[2], b[3]);
        }
    }
}

// ---- raw q8_0 stage: K quants (BN, RS), V quants (BN, RS), K scales (BN, D/32), V scales --------
//
// ldmatrix reads the int8 rows themselves (each 16-bit element is two quants; rows padded to RS =
// D + 16 bytes so that eight 16-byte rows fall in distinct banks), and each word becomes B
// fragments directly: no conversion pass, no f16 stage.

// Q's A fragment for k-step kk in the order qk_q8_raw uses K: there lane (g, t) holds dims 4t ..
// 4t+3 of a 16-dim span and the products take them as k-slots 2t, 2t+1 (dims 4t, 4t+1) and 2t+8,
// 2t+9 (dims 4t+2, 4t+3). A dot product does not depend on the order of its terms, so one 8-byte
// read of dims 4t .. 4t+3 per row gives a[0] / a[2] (row g) and a[1] / a[3] (row g + 8).
template <class C>
__device__ __forceinline__ void q_frag_q8_order(const __half* s_q, uint32_t wr, uint32_t lane, int kk,
                                                uint32_t (&f)[4]) {
    const __half* base = s_q + (wr * 16 + lane / 4) * C::LD + kk * 16 + 4 * (lane % 4);
    const uint2 x = *reinterpret_cast<const uint2*>(base);
    const uint2 y = *reinterpret_cast<const uint2*>(base + 8 * C::LD);
    f[0] = x.x;
    f[1] = y.x;
    f[2] = x.y;
    f[3] = y.y;
}

// S (16 x 16 keys) = Q K^T: per 32-dim block b (one scale per key), ldmatrix x4 of keys (0-7 |
// 8-15) x spans (2b | 2b+1) gives four words of four quants; each word becomes the (b0, b1) pair of
// one k16 step. Even and odd spans accumulate apart (two chains of D/32 dependent products instead
// of one of D/16).
template <class C, class QFrag>
__device__ __forceinline__ void qk_q8_raw(const uint8_t* raw, uint32_t wk, uint32_t lane, QFrag&& q_frag,
                                          float (&s)[C::KW / 8][4]) {
    constexpr int KW = C::KW, BN = C::BN, RS = C::RS, D = C::kD;
    static_assert(KW == 16, "one 16-key n-tile pair per warp and tile");
    const uint8_t* k_lane = raw + (wk * KW + (lane & 7) + ((lane >> 3) & 1) * 8) * RS + (lane >> 4) * 16;
    const __half* k_scales = reinterpret_cast<const __half*>(raw + 2 * BN * RS) + (wk * KW + lane / 4) * (D / 32);
    float odd[2][4] = {};
#pragma unroll
    for (int b = 0; b < D / 32; ++b) {
        uint32_t w[4];
        ldsm_x4(w, k_lane + b * 32);
        uint32_t qa[4], qb[4];
        q_frag(2 * b, qa);
        q_frag(2 * b + 1, qb);
#pragma unroll
        for (int kh = 0; kh < 2; ++kh) {  // keys 8 kh + g
            const __half2 scale = __half2half2(k_scales[kh * 8 * (D / 32) + b]);
            const uint32_t lo = w[kh] ^ 0x80808080u, hi = w[2 + kh] ^ 0x80808080u;
            mma_f16_16816(s[kh], qa, q8_pair_to_half2(lo, 0x5140u, scale), q8_pair_to_half2(lo, 0x5342u, scale));
            mma_f16_16816(odd[kh], qb, q8_pair_to_half2(hi, 0x5140u, scale), q8_pair_to_half2(hi, 0x5342u, scale));
        }
    }
#pragma unroll
    for (int kh = 0; kh < 2; ++kh) {
#pragma unroll
        for (int e = 0; e < 4; ++e) s[kh][e] += odd[kh][e];
    }
}

// O += P V: per 32-dim block b, ldmatrix.trans x4 of positions (0-7 | 8-15) x spans (2b | 2b+1)
// gives lane (g, t) the bytes of dims 2g, 2g+1 at positions 2t, 2t+1 (and + 8): bytes 0 and 2 are
// the B fragment of an n-tile of the span's even dims, bytes 1 and 3 of its odd dims. o[2 sp +
// parity] is the n-tile of span sp's even (0) or odd (1) dims, so this lane's columns 2t, 2t+1 of
// it are dims 16 sp + 4t + parity + {0, 2} (the kernel writes rows back in dim order). V scales
// are per position: two pairs, for rows (positions) 2t, 2t+1 and 2t+8, 2t+9.
template <class C>
__device__ __forceinline__ void pv_q8_raw(const uint8_t* raw, uint32_t wk, uint32_t lane,
                                          const float (&p)[C::KW / 8][4], float (&o)[C::kD / 8][4]) {
    constexpr int KW = C::KW, BN = C::BN, RS = C::RS, D = C::kD;
    const uint8_t* v_lane = raw + (BN + wk * KW + (lane & 7) + ((lane >> 3) & 1) * 8) * RS + (lane >> 4) * 16;
    const __half* v_scales =
        reinterpret_cast<const __half*>(raw + 2 * BN * RS) + (BN + wk * KW + 2 * (lane % 4)) * (D / 32);
    const uint32_t pa[4] = {pack_half2(p[0][0], p[0][1]), pack_half2(p[0][2], p[0][3]), pack_half2(p[1][0], p[1][1]),
                            pack_half2(p[1][2], p[1][3])};
#pragma unroll
    for (int b = 0; b < D / 32; ++b) {
        uint32_t w[4];
        ldsm_x4_trans(w, v_lane + b * 32);
        const __half2 s01 = __halves2half2(v_scales[b], v_scales[(D / 32) + b]);
        const __half2 s89 = __halves2half2(v_scales[8 * (D / 32) + b], v_scales[9 * (D / 32) + b]);
#pragma unroll
        for (int h = 0; h < 2; ++h) {  // span 2b + h
            const uint32_t lo = w[2 * h] ^ 0x80808080u, hi = w[2 * h + 1] ^ 0x80808080u;
            const int sp = 2 * b + h;
            mma_f16_16816(o[2 * sp], pa, q8_pair_to_half2(lo, 0x5240u, s01), q8_pair_to_half2(hi, 0x5240u, s89));
            mma_f16_16816(o[2 * sp + 1], pa, q8_pair_to_half2(lo, 0x5341u, s01), q8_pair_to_half2(hi, 0x5341u, s89));
        }
    }
}

}  // namespace llcuda::cuda::attn_tile
