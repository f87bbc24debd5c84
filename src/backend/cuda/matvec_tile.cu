// Matrix-vector products for 1..8 tokens over kLayoutTile4 matrices (Q4_0, Q4_K) on tensor cores.
//
// Why mma for a matrix-vector product: decoding 4-bit codes to float and multiplying them with
// float32 activations costs ~3.5 instructions per weight, which at H100 bandwidth (~25 weights per
// clock per SM) nearly fills the issue slots. Here the codes become exact f16 integers (two per
// LOP3 + HFMA2) and one mma.m16n8k16 does 16 rows x 16 columns x 8 "columns of B" at once, so the
// cost per weight no longer grows with the number of tokens.
//
// Exactness: A holds exact small integers (Q4_0: q - 8; Q4_K: q * sub-block scale <= 945), and each
// activation is split into two f16 halves, hi = f16(x) and lo = f16(x - hi), held in two B
// columns; the f32 accumulator adds them back. The pair carries ~22 significant bits, so the
// result agrees with float32 arithmetic to ~1e-6. To keep f16 in range, every group of 256
// columns of a token is scaled by a power of two so that its largest |x| lies in [512, 1024)
// (exact; undone on the f32 side). With T <= 4 tokens, B column 2t is token t's hi part and 2t+1
// its lo part; 5..8 tokens use a second B (NB = 2).
//
// Work split: a persistent grid (about 2 CTAs per SM); a CTA of 8 warps works through groups of
// NT = 1, 2, 4 or 8 row tiles (16 rows each); the 8/NT warps of a tile split its columns in units
// of 256 (split-K) and meet in shared memory at the end of each group. The activations of a column
// chunk (as many columns as fit ~64 KB of shared memory) are staged as f16 hi/lo pairs in the
// order the B fragments are read (one 8-byte load per step): once per CTA when one chunk holds
// every column. Each lane keeps the next unit's weight bytes in flight while it computes the
// current one (across group boundaries too), and lane 0 of each warp prefetches its units a few
// steps further ahead into L2 (matvec_stream.cuh; also PDL: weights are requested before the
// previous kernel has finished).
//
// Fusion: with a norm weight, x * nw is staged and each token's sum of x^2 is gathered during the
// staging; the finished dot products are scaled by 1 / rms. accumulate: the epilogue adds to y.
#include <cuda_fp16.h>

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/dequant.cuh"
#include "backend/cuda/matmul_internal.h"
#include "backend/cuda/matvec_stream.cuh"
#include "backend/cuda/mma_f16.cuh"
#include "backend/cuda/tile4_fragments.cuh"

namespace llcuda::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr uint32_t kUnitCols = 256;     // split-K unit and activation scale group
constexpr uint32_t kMaxChunkValues = 16384;  // staged tokens x columns per chunk (~64 KB)

struct TileArgs {
    const uint8_t* quant;
    const uint8_t* side;
    uint32_t n_rows, n_cols;
    uint32_t n_rt;      // row tiles
    uint32_t n_c;       // 64-column chunks per row tile
    uint32_t n_units;   // 256-column units (ceil(n_c / 4))
    const float* x;
    uint32_t nt;        // tokens
    float* y;
    uint32_t kc;        // staged columns per pass (multiple of 256)
    int ks_log2;        // warps per tile = 1 << ks_log2
    bool x_vec;         // x rows 16-byte aligned
    bool accumulate;    // y += product
    const float* nw;    // RMSNorm weight (n_cols) or nullptr: stage x * nw, scale y by each token's 1/rms
    float eps;
    int prefetch;       // units a warp prefetches to L2 ahead of its loads
    // shared memory plan (bytes)
    uint32_t xcol_bytes, xs_col_bytes, off_xs, off_invs, off_ssq, off_red, off_rms;
};

struct Unit {
    uint4 q[4];      // 4 chunks x 16 bytes (this lane's A fragments for 16 k16-steps)
    uint2 sc[4];     // Q4_0: per chunk {half2(d_g, d_g8) block 0, block 1}
    uint4 head[2];   // Q4_K: the super-block heads of rows g and g+8
};

// Per-warp base addresses: this lane's 16 bytes of chunk 0 of the tile, and its scale entries.
struct LaneBase {
    const uint8_t* q;     // + chunk * 512
    const uint8_t* side;  // Q4_0: + chunk * 64 (8 bytes of row pair g); Q4_K: + unit * 256 (row g; g+8 at +128)
};

template <bool Q4K>
__device__ __forceinline__ LaneBase lane_base(const TileArgs& a, uint32_t rt, int lane) {
    const int g = lane >> 2;
    LaneBase b;
    b.q = a.quant + uint64_t(rt) * a.n_c * kTileChunkBytes + lane * 16;
    b.side = Q4K ? a.side + uint64_t(rt) * (a.n_c / 4) * kTileQ4_KHeadBytes + g * 16
                 : a.side + uint64_t(rt) * a.n_c * kTileQ4_0ScaleBytes + g * 8;
    return b;
}

template <bool Q4K>
__device__ __forceinline__ void load_unit(Unit& u, const TileArgs& a, const LaneBase& b, uint32_t unit) {
    const uint8_t* q = b.q + uint64_t(unit) * 4 * kTileChunkBytes;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        if (Q4K || unit * 4 + i < a.n_c) {
            u.q[i] = __ldg(reinterpret_cast<const uint4*>(q + i * kTileChunkBytes));
            if constexpr (!Q4K)
                u.sc[i] = __ldg(reinterpret_cast<const uint2*>(b.side + (uint64_t(unit) * 4 + i) * kTileQ4_0ScaleBytes));
        } else {  // past the last chunk of a Q4_0 row: zero codes and scales contribute nothing
            u.q[i] = make_uint4(0, 0, 0, 0);
            u.sc[i] = make_uint2(0, 0);
        }
    }
    if constexpr (Q4K) {
        const uint8_t* h = b.side + uint64_t(unit) * kTileQ4_KHeadBytes;
        u.head[0] = __ldg(reinterpret_cast<const uint4*>(h));
        u.head[1] = __ldg(reinterpret_cast<const uint4*>(h + 8 * 16));
    }
}

// B fragment of k16-step `step` (chunk-local) for B column `col`: one 8-byte load (the staged order
// puts columns 2t, 2t+1, 2t+8, 2t+9 of each 16 next to each other).
__device__ __forceinline__ uint2 load_b(const uint8_t* smem, const TileArgs& a, uint32_t col, uint32_t step, int t) {
    return *reinterpret_cast<const uint2*>(smem + col * a.xcol_bytes + step * 32 + t * 8);
}

// Stages columns [k0, k0 + kc) of every token: f16 hi/lo pairs, the power-of-two scale of each
// 256-column group, and (Q4_K) the scaled sum of each 32-column sub-block as a hi/lo pair.
template <bool Q4K>
__device__ void stage_x(uint8_t* smem, const TileArgs& a, uint32_t k0, int warp, int lane) {
    const uint32_t ngrp = a.kc / kUnitCols;
    float* invs = reinterpret_cast<float*>(smem + a.off_invs);
    float* ssq = reinterpret_cast<float*>(smem + a.off_ssq);
    for (uint32_t gi = warp; gi < a.nt * ngrp; gi += kWarps) {
        const uint32_t tok = gi / ngrp, grp = gi % ngrp;
        const uint32_t kloc = grp * kUnitCols + lane * 8;
        const uint32_t kglob = k0 + kloc;
        float v[8];
        const float* src = a.x + uint64_t(tok) * a.n_cols + kglob;
        if (kglob < a.n_cols) {  // n_cols is a multiple of 32: all 8 columns in range or none
            if (a.x_vec) {
                const float4 p = __ldg(reinterpret_cast<const float4*>(src));
                const float4 q = __ldg(reinterpret_cast<const float4*>(src) + 1);
                v[0] = p.x, v[1] = p.y, v[2] = p.z, v[3] = p.w, v[4] = q.x, v[5] = q.y, v[6] = q.z, v[7] = q.w;
            } else {
#pragma unroll
                for (int i = 0; i < 8; ++i) v[i] = __ldg(src + i);
            }
        } else {
#pragma unroll
            for (int i = 0; i < 8; ++i) v[i] = 0.0f;
        }
        if (a.nw) {  // fused RMSNorm: sum x^2 of the raw values (this group's share), stage x * nw
            float q = 0.0f;
#pragma unroll
            for (int i = 0; i < 8; ++i) q = fmaf(v[i], v[i], q);
#pragma unroll
            for (int o = 16; o > 0; o >>= 1) q += __shfl_xor_sync(0xFFFFFFFFu, q, o);
            if (lane == 0) ssq[tok * ngrp + grp] = q;
            if (kglob < a.n_cols) {
                float nv[8];
                const float* wsrc = a.nw + kglob;
                if (a.x_vec) {
                    const float4 p = __ldg(reinterpret_cast<const float4*>(wsrc));
                    const float4 q4 = __ldg(reinterpret_cast<const float4*>(wsrc) + 1);
                    nv[0] = p.x, nv[1] = p.y, nv[2] = p.z, nv[3] = p.w, nv[4] = q4.x, nv[5] = q4.y, nv[6] = q4.z, nv[7] = q4.w;
                } else {
#pragma unroll
                    for (int i = 0; i < 8; ++i) nv[i] = __ldg(wsrc + i);
                }
#pragma unroll
                for (int i = 0; i < 8; ++i) v[i] *= nv[i];
            }
        }
        float m = 0.0f;
#pragma unroll
        for (int i = 0; i < 8; ++i) m = fmaxf(m, fabsf(v[i]));
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) m = fmaxf(m, __shfl_xor_sync(0xFFFFFFFFu, m, o));
        // s = 2^(136 - E) puts m (exponent field E) in [512, 1024); clamped so s and 1/s are normal.
        // NaN/inf (E = 255) stay NaN/inf and reach the output as on the CPU.
        const int e = min(254, max(10, int((__float_as_uint(m) >> 23) & 0xFF)));
        const float s = __uint_as_float(uint32_t(263 - e) << 23);
        const float is = __uint_as_float(uint32_t(e - 9) << 23);
        uint8_t* hi_col = smem + (2 * tok) * a.xcol_bytes;
        uint8_t* lo_col = hi_col + a.xcol_bytes;
        // chunk-local column k sits at half index 16*(k/16) + 4*((k%8)/2) + 2*((k%16)/8) + k%2
        const uint32_t base = (kloc & ~15u) + 2 * ((kloc & 15) >> 3);
        float sum = 0.0f;
#pragma unroll
        for (int i = 0; i < 8; i += 2) {
            const float x0 = v[i] * s, x1 = v[i + 1] * s;
            sum += x0 + x1;
            const __half h0 = __float2half_rn(x0), h1 = __float2half_rn(x1);
            const __half l0 = __float2half_rn(x0 - __half2float(h0)), l1 = __float2half_rn(x1 - __half2float(h1));
            const uint32_t off = (base + 4 * (i / 2)) * 2;
            *reinterpret_cast<__half2*>(hi_col + off) = __halves2half2(h0, h1);
            *reinterpret_cast<__half2*>(lo_col + off) = __halves2half2(l0, l1);
        }
        if constexpr (Q4K) {
            sum += __shfl_xor_sync(0xFFFFFFFFu, sum, 1);
            sum += __shfl_xor_sync(0xFFFFFFFFu, sum, 2);
            if ((lane & 3) == 0) {
                const uint32_t sb = kloc / 32;
                const __half h = __float2half_rn(sum);
                const __half l = __float2half_rn(sum - __half2float(h));
                __half* xs_hi = reinterpret_cast<__half*>(smem + a.off_xs + (2 * tok) * a.xs_col_bytes);
                __half* xs_lo = reinterpret_cast<__half*>(smem + a.off_xs + (2 * tok + 1) * a.xs_col_bytes);
                xs_hi[sb] = h;
                xs_lo[sb] = l;
            }
        }
        if (lane == 0) invs[tok * ngrp + grp] = is;
    }
}

// One 256-column unit of Q4_0: 8 blocks of 32 columns; per block, two mma into a fresh
// accumulator, then scaled by d (rows g, g+8) and the group's activation scale.
template <int NB>
__device__ __forceinline__ void compute_q4_0(const Unit& u, const uint8_t* smem, const TileArgs& a, uint32_t ul,
                                             const uint32_t (&bcol)[NB], int t, float (&acc)[NB][4]) {
    const float* invs = reinterpret_cast<const float*>(smem + a.off_invs);
    const uint32_t ngrp = a.kc / kUnitCols;
    float is[NB];
#pragma unroll
    for (int nb = 0; nb < NB; ++nb) {
        const uint32_t tok = 4 * nb + t;
        is[nb] = tok < a.nt ? invs[tok * ngrp + ul] : 0.0f;
    }
    const __half2 k1032 = __float2half2_rn(1032.0f), k16th = __float2half2_rn(1.0f / 16.0f),
                  km72 = __float2half2_rn(-72.0f);
#pragma unroll
    for (int i = 0; i < 4; ++i) {
#pragma unroll
        for (int bh = 0; bh < 2; ++bh) {
            float c[NB][4];
#pragma unroll
            for (int nb = 0; nb < NB; ++nb) c[nb][0] = c[nb][1] = c[nb][2] = c[nb][3] = 0.0f;
#pragma unroll
            for (int j = 0; j < 2; ++j) {
                const int s = 2 * bh + j;
                const uint32_t w = word(u.q[i], s), w8 = w >> 8;
                uint32_t A[4];
                A[0] = h2u(__hsub2(magic1024(w, 0x000F000Fu), k1032));                // q - 8, row g
                A[1] = h2u(__hfma2(magic1024(w, 0x00F000F0u), k16th, km72));          // row g+8
                A[2] = h2u(__hsub2(magic1024(w8, 0x000F000Fu), k1032));
                A[3] = h2u(__hfma2(magic1024(w8, 0x00F000F0u), k16th, km72));
                const uint32_t step = 16 * ul + 4 * i + s;
#pragma unroll
                for (int nb = 0; nb < NB; ++nb) {
                    const uint2 b = load_b(smem, a, bcol[nb], step, t);
                    mma_f16_16816(c[nb], A, b.x, b.y);
                }
            }
            const float2 d = __half22float2(u2h(bh ? u.sc[i].y : u.sc[i].x));  // (row g, row g+8)
#pragma unroll
            for (int nb = 0; nb < NB; ++nb) {
                const float dg = d.x * is[nb], d8 = d.y * is[nb];
                acc[nb][0] = fmaf(dg, c[nb][0], acc[nb][0]);
                acc[nb][1] = fmaf(dg, c[nb][1], acc[nb][1]);
                acc[nb][2] = fmaf(d8, c[nb][2], acc[nb][2]);
                acc[nb][3] = fmaf(d8, c[nb][3], acc[nb][3]);
            }
        }
    }
}

// One super-block of Q4_K. A = q * sc (exact: <= 15 * 63) built with one HFMA2 per register:
// row g from 1024 + q (fma with sc, -1024 sc), row g+8 from 1024 + 16 q (fma with sc/16, -64 sc).
// The 16 steps accumulate into one C; the mins term sum_j m_j * X_j (X_j = scaled column sum of
// sub-block j) is one more mma with the 8 mins as A's first 8 columns.
template <int NB>
__device__ __forceinline__ void compute_q4_k(const Unit& u, const uint8_t* smem, const TileArgs& a, uint32_t ul,
                                             const uint32_t (&bcol)[NB], int t, float (&acc)[NB][4]) {
    const float* invs = reinterpret_cast<const float*>(smem + a.off_invs);
    const uint32_t ngrp = a.kc / kUnitCols;
    // scales and mins of rows g and g+8 as bytes: sc[0..3], sc[4..7], m[0..3], m[4..7]
    uint32_t scw[2][2], mw[2][2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
        const uint4 h = u.head[r];
        scw[r][0] = h.y & 0x3F3F3F3Fu;
        scw[r][1] = (h.w & 0x0F0F0F0Fu) | ((h.y >> 2) & 0x30303030u);
        mw[r][0] = h.z & 0x3F3F3F3Fu;
        mw[r][1] = ((h.w >> 4) & 0x0F0F0F0Fu) | ((h.z >> 2) & 0x30303030u);
    }
    const __half2 k1024 = __float2half2_rn(1024.0f), k16th = __float2half2_rn(1.0f / 16.0f),
                  km64 = __float2half2_rn(-64.0f), kneg1024 = __float2half2_rn(-1024.0f);
    float c1[NB][4];
#pragma unroll
    for (int nb = 0; nb < NB; ++nb) c1[nb][0] = c1[nb][1] = c1[nb][2] = c1[nb][3] = 0.0f;
#pragma unroll
    for (int j = 0; j < 8; ++j) {
        const int b = j & 3;
        const uint32_t sel = uint32_t(b) | uint32_t(b) << 4 | uint32_t(4 + b) << 8 | uint32_t(4 + b) << 12;
        const uint32_t both = __byte_perm(scw[0][j >> 2], scw[1][j >> 2], sel);   // [sc_g, sc_g, sc_g8, sc_g8]
        const __half2 x = magic1024(both, 0x003F003Fu);                            // (1024 + sc_g, 1024 + sc_g8)
        const __half2 p = __hsub2(x, k1024);                                       // (sc_g, sc_g8)
        const __half2 p16 = __hfma2(x, k16th, km64);                               // (sc_g / 16, sc_g8 / 16)
        const __half2 sg = __low2half2(p), ng = __hmul2(sg, kneg1024);
        const __half2 s8 = __high2half2(p16), n8 = __hmul2(s8, kneg1024);
#pragma unroll
        for (int jj = 0; jj < 2; ++jj) {
            const int sl = 2 * j + jj;  // step within the super-block
            const uint32_t w = word(u.q[sl >> 2], sl & 3), w8 = w >> 8;
            uint32_t A[4];
            A[0] = h2u(__hfma2(magic1024(w, 0x000F000Fu), sg, ng));
            A[1] = h2u(__hfma2(magic1024(w, 0x00F000F0u), s8, n8));
            A[2] = h2u(__hfma2(magic1024(w8, 0x000F000Fu), sg, ng));
            A[3] = h2u(__hfma2(magic1024(w8, 0x00F000F0u), s8, n8));
            const uint32_t step = 16 * ul + sl;
#pragma unroll
            for (int nb = 0; nb < NB; ++nb) {
                const uint2 bb = load_b(smem, a, bcol[nb], step, t);
                mma_f16_16816(c1[nb], A, bb.x, bb.y);
            }
        }
    }
    // mins: A row g = (m_2t, m_2t+1) in columns 2t..2t+1, zero elsewhere; B = X_2t, X_2t+1
    const uint32_t msel = uint32_t(2 * (t & 1)) | 4u << 4 | uint32_t(2 * (t & 1) + 1) << 8 | 4u << 12;
    uint32_t Am[4];
    const bool upper = t >= 2;  // a select, not mw[r][t >> 1]: a run-time index would spill mw to local memory
    Am[0] = h2u(__hsub2(u2h(__byte_perm(upper ? mw[0][1] : mw[0][0], 0, msel) | 0x64006400u), k1024));
    Am[1] = h2u(__hsub2(u2h(__byte_perm(upper ? mw[1][1] : mw[1][0], 0, msel) | 0x64006400u), k1024));
    Am[2] = Am[3] = 0;
    const float d_g = f16_bits_to_f32(u.head[0].x), dmin_g = f16_bits_to_f32(u.head[0].x >> 16);
    const float d_8 = f16_bits_to_f32(u.head[1].x), dmin_8 = f16_bits_to_f32(u.head[1].x >> 16);
#pragma unroll
    for (int nb = 0; nb < NB; ++nb) {
        const uint32_t bm = *reinterpret_cast<const uint32_t*>(smem + a.off_xs + bcol[nb] * a.xs_col_bytes + (8 * ul + 2 * t) * 2);
        float c2[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        mma_f16_16816(c2, Am, bm, 0u);
        const uint32_t tok = 4 * nb + t;
        const float is = tok < a.nt ? invs[tok * ngrp + ul] : 0.0f;
        const float dg = d_g * is, mg = dmin_g * is, d8 = d_8 * is, m8 = dmin_8 * is;
        acc[nb][0] += dg * c1[nb][0] - mg * c2[0];
        acc[nb][1] += dg * c1[nb][1] - mg * c2[1];
        acc[nb][2] += d8 * c1[nb][2] - m8 * c2[2];
        acc[nb][3] += d8 * c1[nb][3] - m8 * c2[3];
    }
}

// Issues the L2 prefetch of unit `un` of row tile `rt` (its quants and its scales), if it exists.
template <bool Q4K>
__device__ __forceinline__ void prefetch_unit(const TileArgs& a, uint32_t rt, uint32_t un) {
    if (rt >= a.n_rt || un >= a.n_units) return;
    const uint32_t chunks = min(4u, a.n_c - un * 4);
    prefetch_l2_bulk(a.quant + (uint64_t(rt) * a.n_c + un * 4) * kTileChunkBytes, chunks * kTileChunkBytes);
    if constexpr (Q4K)
        prefetch_l2_bulk(a.side + (uint64_t(rt) * (a.n_c / 4) + un) * kTileQ4_KHeadBytes, kTileQ4_KHeadBytes);
    else
        prefetch_l2_bulk(a.side + (uint64_t(rt) * a.n_c + un * 4) * kTileQ4_0ScaleBytes, chunks * kTileQ4_0ScaleBytes);
}

// A persistent grid: CTA b owns row-tile groups b, b + gridDim.x, ... (a group = tiles_per_cta
// tiles; warp tl*ks + kw takes units kw, kw + ks, ... of tile tl). When one pass stages all
// columns (always at n = 1 for Llama shapes), x is staged once per CTA and each warp's
// double buffer runs on across groups: the first unit of the next group is loaded while the last
// one of this group is computed. Several passes: x is restaged per group and pass (as many CTAs
// as groups is then no worse than before).
template <bool Q4K, int NB>
__global__ void __launch_bounds__(kThreads, 2) matvec_tile4_kernel(TileArgs a) {
    extern __shared__ __align__(16) uint8_t smem[];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int g = lane >> 2, t = lane & 3;
    const uint32_t ks = 1u << a.ks_log2;
    const uint32_t tiles_per_cta = kWarps >> a.ks_log2;
    const uint32_t tl = uint32_t(warp) >> a.ks_log2, kw = uint32_t(warp) & (ks - 1);
    const uint32_t n_groups = (a.n_rt + tiles_per_cta - 1) / tiles_per_cta;
    const uint32_t units_per_pass = a.kc / kUnitCols;
    const bool one_pass = units_per_pass >= a.n_units;
    auto rt_of = [&](uint32_t grp) { return grp * tiles_per_cta + tl; };

    // B column of this lane in each B set: 2 * token + (0: hi, 1: lo). Columns past the last token
    // read the last real column instead of zeros: their products land in C columns nobody reads.
    uint32_t bcol[NB];
#pragma unroll
    for (int nb = 0; nb < NB; ++nb) bcol[nb] = min(uint32_t(8 * nb + g), 2 * a.nt - 1);

    // L2 prefetch cursor (lane 0): this warp's units in order, a.prefetch units ahead of the loads.
    uint32_t pf_grp = blockIdx.x, pf_un = kw;
    auto prefetch_next = [&] {
        if (pf_grp >= n_groups) return;
        prefetch_unit<Q4K>(a, rt_of(pf_grp), pf_un);
        pf_un += ks;
        if (pf_un >= a.n_units) pf_un = kw, pf_grp += gridDim.x;
    };
    if (lane == 0 && kw < a.n_units)
        for (int i = 0; i < a.prefetch; ++i) prefetch_next();

    Unit cur, nxt;
    uint32_t grp = blockIdx.x;
    if (grp < n_groups && rt_of(grp) < a.n_rt && kw < min(units_per_pass, a.n_units))
        load_unit<Q4K>(cur, a, lane_base<Q4K>(a, rt_of(grp), lane), kw);  // weights only: before the wait
    pdl_wait();
    pdl_launch_dependents();

    float* rms = reinterpret_cast<float*>(smem + a.off_rms);
    float ss_total = 0.0f;  // norm: thread tok < nt sums its token's x^2 over the passes (fixed order)
    auto add_ssq = [&](uint32_t u0) {
        if (a.nw && threadIdx.x < a.nt) {
            const float* ssq = reinterpret_cast<const float*>(smem + a.off_ssq);
            const uint32_t ng = min(units_per_pass, a.n_units - u0);
            for (uint32_t gi = 0; gi < ng; ++gi) ss_total += ssq[threadIdx.x * units_per_pass + gi];
        }
    };
    if (one_pass) {
        stage_x<Q4K>(smem, a, 0, warp, lane);
        __syncthreads();
        add_ssq(0);
    }

    for (uint32_t parity = 0; grp < n_groups; grp += gridDim.x, parity ^= 1) {
        const uint32_t rt = rt_of(grp);
        const bool active = rt < a.n_rt;
        const LaneBase base = lane_base<Q4K>(a, active ? rt : 0, lane);
        float acc[NB][4];
#pragma unroll
        for (int nb = 0; nb < NB; ++nb) acc[nb][0] = acc[nb][1] = acc[nb][2] = acc[nb][3] = 0.0f;
        if (!one_pass) ss_total = 0.0f;
        for (uint32_t u0 = 0; u0 < a.n_units; u0 += units_per_pass) {
            const uint32_t u_end = min(a.n_units, u0 + units_per_pass);
            if (!one_pass) {
                if ((u0 > 0 || grp != blockIdx.x) && active && u0 + kw < u_end) load_unit<Q4K>(cur, a, base, u0 + kw);
                __syncthreads();  // every warp is done with the previous pass's staged x
                stage_x<Q4K>(smem, a, u0 * kUnitCols, warp, lane);
                __syncthreads();
                add_ssq(u0);
            }
            if (!active) continue;
            for (uint32_t un = u0 + kw; un < u_end; un += ks) {
                // the next unit: this pass's, else (one pass) the first of this warp's next group
                uint32_t nu = un + ks;
                if (nu < u_end) {
                    load_unit<Q4K>(nxt, a, base, nu);
                } else if (one_pass) {
                    const uint32_t ng = grp + gridDim.x;
                    if (ng < n_groups && rt_of(ng) < a.n_rt) load_unit<Q4K>(nxt, a, lane_base<Q4K>(a, rt_of(ng), lane), kw);
                }
                if (lane == 0 && a.prefetch > 0) prefetch_next();
                if constexpr (Q4K) compute_q4_k<NB>(cur, smem, a, un - u0, bcol, t, acc);
                else compute_q4_0<NB>(cur, smem, a, un - u0, bcol, t, acc);
                cur = nxt;
            }
        }

        // Partial sums of the ks warps of each tile: [warp][token 0..7][row 0..15] in shared memory,
        // two buffers (groups alternate), so one barrier per group suffices.
        float* red = reinterpret_cast<float*>(smem + a.off_red) + parity * (kWarps * 8 * 16);
        if (a.nw && threadIdx.x < a.nt) rms[parity * 8 + threadIdx.x] = 1.0f / sqrtf(ss_total / float(a.n_cols) + a.eps);
#pragma unroll
        for (int nb = 0; nb < NB; ++nb) {
            const uint32_t tok = 4 * nb + t;
            if (tok < a.nt) {
                red[(warp * 8 + tok) * 16 + g] = acc[nb][0] + acc[nb][1];
                red[(warp * 8 + tok) * 16 + g + 8] = acc[nb][2] + acc[nb][3];
            }
        }
        __syncthreads();
        for (uint32_t idx = threadIdx.x; idx < tiles_per_cta * a.nt * 16; idx += kThreads) {
            const uint32_t tile = idx / (a.nt * 16), tok = (idx / 16) % a.nt, row_in = idx % 16;
            const uint32_t rt_out = grp * tiles_per_cta + tile;
            const uint64_t row = uint64_t(rt_out) * 16 + row_in;
            if (rt_out >= a.n_rt || row >= a.n_rows) continue;
            float v = 0.0f;
            for (uint32_t k = 0; k < ks; ++k) v += red[((tile * ks + k) * 8 + tok) * 16 + row_in];
            if (a.nw) v *= rms[parity * 8 + tok];
            float* dst = a.y + uint64_t(tok) * a.n_rows + row;
            *dst = a.accumulate ? *dst + v : v;
        }
    }
}

// Shared memory for a pass of kc columns and nt tokens.
uint32_t plan_smem(TileArgs& a, bool q4k, uint32_t kc) {
    a.kc = kc;
    a.xcol_bytes = kc * 2 + 32;  // +32: 8-byte B loads of 4 consecutive columns hit distinct banks
    a.xs_col_bytes = q4k ? kc / 32 * 2 + 16 : 0;
    a.off_xs = 2 * a.nt * a.xcol_bytes;
    a.off_invs = a.off_xs + 2 * a.nt * a.xs_col_bytes;
    a.off_ssq = a.off_invs + a.nt * (kc / kUnitCols) * 4;
    a.off_red = (a.off_ssq + a.nt * (kc / kUnitCols) * 4 + 15) / 16 * 16;
    a.off_rms = a.off_red + 2 * kWarps * 8 * 16 * 4;  // two reduction buffers
    return a.off_rms + 2 * 8 * 4;
}

// The dynamic shared memory the kernels may use (above 48 KB only after an opt-in per kernel).
uint32_t smem_budget() { return uint32_t(std::min<size_t>(device_limits().smem_optin, 100 * 1024)); }

template <bool Q4K, int NB>
void launch(TileArgs& a, unsigned grid, uint32_t smem, cudaStream_t stream) {
    launch_stream_kernel(matvec_tile4_kernel<Q4K, NB>, dim3(grid), dim3(kThreads), smem, stream,
                         Q4K ? "matvec_tile4_kernel<q4_K>" : "matvec_tile4_kernel<q4_0>", a);
}

}  // namespace

void matvec_tile4_prepare() {
    const int limit = int(smem_budget());
    CUDA_CHECK(cudaFuncSetAttribute(matvec_tile4_kernel<false, 1>, cudaFuncAttributeMaxDynamicSharedMemorySize, limit));
    CUDA_CHECK(cudaFuncSetAttribute(matvec_tile4_kernel<false, 2>, cudaFuncAttributeMaxDynamicSharedMemorySize, limit));
    CUDA_CHECK(cudaFuncSetAttribute(matvec_tile4_kernel<true, 1>, cudaFuncAttributeMaxDynamicSharedMemorySize, limit));
    CUDA_CHECK(cudaFuncSetAttribute(matvec_tile4_kernel<true, 2>, cudaFuncAttributeMaxDynamicSharedMemorySize, limit));
}

void matvec_tile4(const DeviceMatrix& w, const float* x, uint32_t n_tokens, float* y, const MatmulFusion& f,
                  cudaStream_t stream) {
    const bool q4k = w.type == GgmlType::Q4_K;
    TileArgs a{};
    a.quant = w.data;
    a.side = w.data + w.aux_offset;
    a.n_rows = uint32_t(w.n_rows);
    a.n_cols = uint32_t(w.n_cols);
    a.n_rt = uint32_t(tile4_row_tiles(w.n_rows));
    a.n_c = uint32_t(tile4_chunks(w.n_cols));
    a.n_units = (a.n_c + 3) / 4;
    a.x = x;
    a.nt = n_tokens;
    a.y = y;
    a.x_vec = reinterpret_cast<uintptr_t>(x) % 16 == 0 && reinterpret_cast<uintptr_t>(f.norm_weight) % 16 == 0;
    a.accumulate = f.accumulate;
    a.nw = f.norm_weight;
    a.eps = f.norm_eps;

    // Columns per pass: as many 256-column units as fit both kMaxChunkValues and the device's
    // shared memory (the sm_75 opt-in limit is 64 KB).
    const DeviceLimits& dev = device_limits();
    const uint32_t budget = smem_budget();
    uint32_t kc = std::min(a.n_units, std::max(1u, kMaxChunkValues / n_tokens / kUnitCols)) * kUnitCols;
    uint32_t smem = plan_smem(a, q4k, kc);
    while (smem > budget && kc > kUnitCols) smem = plan_smem(a, q4k, kc -= kUnitCols);

    // Tiles per CTA (T; the 8 / T warps of a tile split its columns): at least enough that every
    // warp gets two units; above that, the largest T whose groups spread over the persistent grid
    // (cps CTAs per SM, every CTA the same number of groups) nearly as evenly as the best T does
    // (a larger T means longer runs per warp between the group barriers). The grid is then as
    // small as keeps that number of groups per CTA.
    const StreamKnobs& knobs = stream_knobs();
    a.prefetch = knobs.tile_prefetch;
    const uint64_t full = uint64_t(std::max(1, knobs.tile_cps)) * uint64_t(dev.sm_count);
    int nt_log2 = 0;
    while (nt_log2 < 3 && a.n_units < 2 * (kWarps >> nt_log2)) ++nt_log2;
    double even[4] = {0, 0, 0, 0}, best = 0;  // fraction of the grid's group slots that hold a group
    for (int l = nt_log2; l <= 3; ++l) {
        const uint64_t groups = (a.n_rt + (1u << l) - 1) >> l;
        const uint64_t waves = (groups + full - 1) / full;
        even[l] = double(groups) / double(waves * full);
        best = std::max(best, even[l]);
    }
    for (int l = 3; l > nt_log2; --l)
        if (even[l] >= knobs.tile_even * best - 1e-9) {
            nt_log2 = l;
            break;
        }
    a.ks_log2 = 3 - nt_log2;
    const uint32_t tiles_per_cta = 1u << nt_log2;
    const uint64_t groups = (a.n_rt + tiles_per_cta - 1) / tiles_per_cta;
    unsigned grid = unsigned(groups);
    if (knobs.tile_cps > 0) {
        const uint64_t per_cta = (groups + full - 1) / full;
        grid = unsigned((groups + per_cta - 1) / per_cta);
    }
    if (q4k) {
        if (n_tokens <= 4) launch<true, 1>(a, grid, smem, stream);
        else launch<true, 2>(a, grid, smem, stream);
    } else {
        if (n_tokens <= 4) launch<false, 1>(a, grid, smem, stream);
        else launch<false, 2>(a, grid, smem, stream);
    }
}

}  // namespace llcuda::cuda
