// Matrix products for more than 8 tokens over kLayoutTile4 matrices (Q4_0, Q4_K) on tensor cores,
// reading the 4-bit weights as they are stored (no dequantized copy of the matrix anywhere).
//
// Why not dequantize-then-cuBLAS: a dequantized band costs a write and a read of 2 bytes per
// weight on top of the 0.56 bytes of the 4-bit codes, every call. At a decode step of 16-256
// sequences that traffic is the whole step; at a 512-token prompt chunk it is ~40 % of it.
//
// Two kernels per product:
//  1. act_to_f16 (act_to_f16.cu): each token's row of x (optionally RMS-normalized, x * w / rms)
//     is scaled by a power of two so that its largest |x| lies in [512, 1024), written as f16
//     (columns padded with zeros to the matrix's 256-column units), with the inverse scale per
//     token and, for Q4_K, the f32 sum of every 32 scaled columns as two f16 parts, high =
//     f16(sum) and low = f16(sum - high) (|sum| < 2^15: fits). Scaling per token (not per call)
//     keeps small tokens as precise as large ones.
//  2. gemm_tile4_kernel: a CTA computes 256 rows x 64 tokens (16 or 32 for small calls, see Geom);
//     its 8 warps own 32 rows (two 16-row tiles) each and all the CTA's tokens (8 mma n-tiles at
//     64), so each A fragment built from the codes feeds 8 mma and each B fragment (ldmatrix.x4
//     from shared memory) 2. Per 256-column unit the CTA copies the tiles' codes (32 KB), their
//     scales and the tokens' f16 columns (33 KB at 64 tokens) into shared memory with cp.async, in
//     a 3-stage pipeline (2 where shared memory is smaller). 256 rows per CTA, not 128: the f16
//     activations cost more bytes per stage than the 4-bit codes, and at 128 rows the copies from
//     L2 (~80 FLOP per byte) held the H200 near 250 TFLOP/s.
//     A fragments: Q4_0 f16((q - 8) * d), the dequantize-to-f16 path's rounding of each weight, into
//     the f32 accumulator. Q4_K the exact integers q * sc_j (<= 945) into a per-unit accumulator,
//     scaled by each row's f32 d at the end of the unit; the mins as one more mma per n-tile with
//     the exact m_j as A (columns 0..7 and again 8..15) and the sums' high and low parts as B,
//     scaled by f32 dmin. So no f16 rounding is shared by a sub-block's 32 weights (rounding d sc_j
//     or dmin m_j to f16 was: SmolLM2 Q4_K_M KL 1.8e-5 against 2-5e-6 for every other type).
//     When row x token blocks cannot fill the GPU twice over, the units are split over grid.z
//     (split-K); each split writes its partial product to scratch and reduce_splits adds them in a
//     fixed order (deterministic: the same input gives the same bits whatever the batch
//     composition).
// sm_75 runs the same code: mma_f16_16816 has an m16n8k8 path; cp.async and ldmatrix.x4 exist
// from sm_80 / sm_75 respectively, so sm_75 stages with plain loads (cp_async16, async_copy.cuh).
#include <cuda_fp16.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "backend/cuda/async_copy.cuh"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/tile4_fragments.cuh"
#include "backend/cuda/dequant.cuh"
#include "backend/cuda/gemm_tile4.h"
#include "backend/cuda/matmul_internal.h"
#include "backend/cuda/matmul_layout.h"
#include "backend/cuda/matvec_stream.cuh"
#include "backend/cuda/mma_f16.cuh"

namespace llcuda::cuda {
namespace {

constexpr int kThreads = 256;             // 8 warps
constexpr uint32_t kRowTiles = 16;        // 16-row tiles per CTA (2 per warp)
constexpr uint32_t kUnit = 256;           // columns per pipeline stage
constexpr uint32_t kBRowHalves = kUnit + 8;  // +16 bytes per token row: the 8 rows of an ldmatrix hit distinct banks

// Tokens per CTA: BN = 16 * NP (NP n-tile pairs: 1, 2 or 4). Narrow tiles exist for decode steps of
// 9-32 sequences: a 64-token tile there multiplies mostly zero columns (at 16 tokens 3/4 of the mma
// and of the staged activations are padding, and the kernel is bound by that arithmetic, not by
// the weights' bytes).
template <int NP>
struct Geom {
    static constexpr uint32_t kBN = 16 * NP;
    // One pipeline stage in shared memory (bytes).
    static constexpr uint32_t kOffA = 0;                                   // [16 tiles][4 chunks][512 B] codes
    static constexpr uint32_t kOffSide = kRowTiles * 4 * kTileChunkBytes;  // [16 tiles][256 B] Q4_K heads / Q4_0 scales
    static constexpr uint32_t kOffB = kOffSide + kRowTiles * 256;          // [BN tokens][264 halves] activations
    static constexpr uint32_t kOffXs = kOffB + kBN * kBRowHalves * 2;      // [BN tokens][16 halves] Q4_K sub-block sums (hi, lo)
    static constexpr uint32_t kStageBytes = kOffXs + kBN * 32;             // BN 64: 72,704 bytes
};
// Pipeline depth: 3 stages where they fit (BN 64: 218,112 bytes; sm_90 allows 227 KB per CTA), else 2
// (BN 64: 145,408; sm_80 163 KB), else none.
template <int NP>
int stages_for(size_t smem_optin) {
    return smem_optin >= 3 * Geom<NP>::kStageBytes ? 3 : smem_optin >= 2 * Geom<NP>::kStageBytes ? 2 : 0;
}

struct GemmArgs {
    const uint8_t* quant;
    const uint8_t* side;
    uint32_t n_rows, n_rt, n_c, n_units;
    const __half* x16;     // (n_tokens, ldk) scaled activations
    uint32_t ldk;          // halves per token row = n_units * 256
    const __half* xsum;    // (n_tokens, n_units * 16) Q4_K sub-block sums per unit: 8 f16 high parts, 8 low, or nullptr
    const float* invs;     // (n_tokens) inverse activation scale
    uint32_t n_tokens;
    float* y;              // (n_tokens, n_rows)
    float* partial;        // (splits, n_tokens, n_rows) when splits > 1
    uint32_t units_per_split;
    bool accumulate;
};

// The copies one thread issues to fill a pipeline stage, planned once per kernel: per unit only the
// source pointers move (by the unit's bytes) and the stage's base address changes, so the unit loop
// does no division, no bounds arithmetic and no 64-bit row products.
//
// Copies that would read past the matrix or past the tokens are redirected to data that exists
// (the matrix's last row tile, the last token): their rows of A / columns of B only reach outputs
// that are never written (rows >= n_rows, tokens >= n_tokens), and a row of A or column of B only
// meets its own row / column of the product, so they need no zero-fill. The one exception is Q4_0's
// last unit when the matrix has a number of 64-column chunks that is not a multiple of 4: its
// missing chunks' scales are zero-filled (d = 0), and their codes are not copied (whatever codes
// the stage holds, (q - 8) * 0 and the zero activations of those columns add nothing).
template <bool Q4K, int NP>
struct StageCopies {
    using G = Geom<NP>;
    static constexpr int kActCopies = int(G::kBN * 32 / kThreads);  // 16-byte activation copies per thread

    // Codes: each warp copies its own two row tiles (2 * warp, 2 * warp + 1): 4 chunks x 512 bytes
    // each, lane l bytes 16 l.. of every chunk.
    const uint8_t* code;        // tile 2 * warp, chunk 0 of the next unit to copy, + 16 * lane
    uint32_t code_next_tile;    // bytes from tile 2 * warp to tile 2 * warp + 1 (clamped to the matrix)
    uint32_t code_dst;          // [16 tiles][2048 B]: offset of tile 2 * warp, + 16 * lane, in a stage
    // Scales: 16 tiles x 256 bytes, thread tid bytes 16 tid.. (tile tid / 16).
    const uint8_t* side;        // the thread's 16 bytes of the next unit
    uint32_t side_chunk;        // Q4_0: the chunk (0..3) of the unit that those 16 bytes belong to
    int32_t chunks_left;        // Q4_0: chunks of the matrix from the next unit's first one on
    // Activations: BN tokens x 512 bytes; copy i is token tid / 32 + 8 i, bytes 16 (tid % 32)...
    const uint8_t* act;         // x16 + the next unit's first column + 16 (tid % 32) bytes
    uint32_t act_row[kActCopies];  // byte offset of copy i's token row (clamped to the tokens)
    uint32_t act_dst;           // offset of token tid / 32, + 16 (tid % 32), in a stage
    // Q4_K sub-block sums: threads tid < 2 BN copy token tid / 2, high (tid even) or low part.
    const uint8_t* xsum;

    __device__ __forceinline__ StageCopies(const GemmArgs& a, uint32_t rt0, uint32_t tok0, uint32_t u_begin) {
        const uint32_t tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
        const uint32_t last_rt = a.n_rt - 1, last_tok = a.n_tokens - 1;
        const uint64_t tile_bytes = uint64_t(a.n_c) * kTileChunkBytes;
        const uint32_t rt_a = min(rt0 + 2 * warp, last_rt), rt_b = min(rt0 + 2 * warp + 1, last_rt);
        code = a.quant + rt_a * tile_bytes + uint64_t(u_begin) * 4 * kTileChunkBytes + lane * 16;
        code_next_tile = uint32_t((rt_b - rt_a) * tile_bytes);
        code_dst = G::kOffA + 2 * warp * 2048 + lane * 16;

        const uint32_t rt_s = min(rt0 + tid / 16, last_rt);
        if constexpr (Q4K) {
            side = a.side + (uint64_t(rt_s) * (a.n_c / 4) + u_begin) * kTileQ4_KHeadBytes + (tid % 16) * 16;
        } else {
            side = a.side + (uint64_t(rt_s) * a.n_c + u_begin * 4) * kTileQ4_0ScaleBytes + (tid % 16) * 16;
        }
        side_chunk = (tid % 16) / 4;
        chunks_left = int32_t(a.n_c - u_begin * 4);

        act = reinterpret_cast<const uint8_t*>(a.x16 + u_begin * kUnit) + lane * 16;
#pragma unroll
        for (int i = 0; i < kActCopies; ++i) act_row[i] = min(tok0 + warp + 8 * i, last_tok) * a.ldk * 2;
        act_dst = G::kOffB + warp * kBRowHalves * 2 + lane * 16;
        if constexpr (Q4K) {
            xsum = reinterpret_cast<const uint8_t*>(a.xsum + (uint64_t(min(tok0 + tid / 2, last_tok)) * a.n_units + u_begin) * 16 +
                                                    (tid % 2) * 8);
        }
    }

    // Weights of the next unit (codes and scales) into the stage at st, and on to the unit after:
    // no kernel writes them, so this may run before pdl_wait.
    __device__ __forceinline__ void weights(uint8_t* st) {
        const uint8_t* code_b = code + code_next_tile;
#pragma unroll
        for (int c = 0; c < 4; ++c) {
            // Q4_K: every unit is whole (256-column super-blocks); Q4_0: chunk 0 of a unit always exists
            if (Q4K || c == 0 || c < chunks_left) {
                cp_async16(st + code_dst + c * kTileChunkBytes, code + c * kTileChunkBytes, true);
                cp_async16(st + code_dst + 2048 + c * kTileChunkBytes, code_b + c * kTileChunkBytes, true);
            }
        }
        code += 4 * kTileChunkBytes;
        if constexpr (Q4K) {
            cp_async16(st + G::kOffSide + threadIdx.x * 16, side, true);
            side += kTileQ4_KHeadBytes;
        } else {
            // a missing chunk's scales read as zeros, from chunk 0's address (which exists)
            const bool ok = int32_t(side_chunk) < chunks_left;
            cp_async16(st + G::kOffSide + threadIdx.x * 16, ok ? side : side - side_chunk * kTileQ4_0ScaleBytes, ok);
            side += 4 * kTileQ4_0ScaleBytes;
            chunks_left -= 4;
        }
    }

    // Activations of the next unit (and Q4_K's sub-block sums) into the stage at st, and on to the
    // unit after: written by the kernel before, so only after pdl_wait.
    __device__ __forceinline__ void acts(uint8_t* st) {
#pragma unroll
        for (int i = 0; i < kActCopies; ++i) {
            cp_async16(st + act_dst + i * 8 * kBRowHalves * 2, act + act_row[i], true);
        }
        act += kUnit * 2;
        if constexpr (Q4K) {
            if (threadIdx.x < 2 * G::kBN) cp_async16(st + G::kOffXs + threadIdx.x * 16, xsum, true);
            xsum += 32;
        }
    }
};

// The 6-bit scales (sc) and mins (m) of a Q4_K super-block head as bytes: [0] = j 0..3, [1] = j
// 4..7. Only each byte's low 6 bits are the value: the bits above are left for the one mask that
// six_bit_pair applies anyway (sc[0] and m[0] are then the head's words as they are, and the
// high bits of j 4..7 join their low nibbles in one bit-select each).
struct Q4KScales {
    uint32_t sc[2], m[2];
};
__device__ __forceinline__ Q4KScales unpack_q4k(const uint4& h) {
    constexpr uint32_t kLowNibbles = 0x0F0F0F0Fu;
    Q4KScales s;
    s.sc[0] = h.y;
    s.sc[1] = (h.w & kLowNibbles) | ((h.y >> 2) & ~kLowNibbles);
    s.m[0] = h.z;
    s.m[1] = ((h.w >> 4) & kLowNibbles) | ((h.z >> 2) & ~kLowNibbles);
    return s;
}
// The 6-bit values v of two bytes of the 8 in (w0, w1) as the mantissas of an f16 pair with the
// exponents of `exps`: sel puts the byte of the low half in bits 0..7 and that of the high half in
// bits 16..23 (one PRMT; __byte_perm's selector), one LOP3 keeps their 6 bits and ORs in the
// exponents. With 1024 (0x6400) that half is 1024 + v, with 64 (0x5400) 64 + v / 16: subtracting
// 1024 or 64 then gives v or v / 16 exactly, with no int -> float conversion.
__device__ __forceinline__ __half2 six_bit_pair(uint32_t w0, uint32_t w1, uint32_t sel, uint32_t exps) {
    return fields_as_mantissas(__byte_perm(w0, w1, sel), 0x003F003Fu, exps);
}

// One unit from a stage: acc[r][n] += A(tile 2*warp + r) x B(n-tile n).
template <bool Q4K, int NP>
__device__ __forceinline__ void compute_stage(const uint8_t* st, int warp, int lane, float (&acc)[2][2 * NP][4]) {
    using G = Geom<NP>;
    const int g = lane >> 2, t = lane & 3;
    const uint8_t* sa = st + G::kOffA + (2 * warp) * 2048 + lane * 16;
    const uint8_t* ss = st + G::kOffSide + (2 * warp) * 256;
    // ldmatrix row address of this lane: matrix mi = lane / 8 -> token (mi / 2) * 8 + lane % 8 of an
    // n-tile pair, k offset (mi % 2) * 8
    const uint8_t* sb = st + G::kOffB + (((lane >> 4) * 8 + (lane & 7)) * kBRowHalves + ((lane >> 3) & 1) * 8) * 2;

    // Q4_K: per tile and sub-block j, (sc_j of row g, sc_j / 16 of row g+8) as exact f16 (A is then
    // the exact integer q * sc_j, see below); d and dmin of rows g and g+8 in f32, applied to the
    // unit's own accumulator c1 and to the mins product at the end; the mins' A holds the exact m_j.
    __half2 ds[2][8];
    float dq[2][2], dm[2][2];  // [tile][row g, row g+8]: d, dmin
    uint32_t am[2][2];
    if constexpr (Q4K) {
        const __half2 k1024and64 = __floats2half2_rn(1024.0f, 64.0f), k1024 = __float2half2_rn(1024.0f);
        const uint32_t min_sel = uint32_t(2 * t) | (uint32_t(2 * t + 1) << 8);  // bytes 2t, 2t + 1 of the 8
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            const uint4 hg = *reinterpret_cast<const uint4*>(ss + r * 256 + g * 16);
            const uint4 h8 = *reinterpret_cast<const uint4*>(ss + r * 256 + (g + 8) * 16);
            const Q4KScales sg = unpack_q4k(hg), s8 = unpack_q4k(h8);
            dq[r][0] = f16_bits_to_f32(hg.x), dm[r][0] = f16_bits_to_f32(hg.x >> 16);
            dq[r][1] = f16_bits_to_f32(h8.x), dm[r][1] = f16_bits_to_f32(h8.x >> 16);
            // (1024 + sc_g, 64 + sc_8 / 16) - (1024, 64)
#pragma unroll
            for (int j = 0; j < 8; ++j) {
                const uint32_t sel = (j % 4) | ((4 + j % 4) << 8);  // byte j % 4 of sg's word, then of s8's
                ds[r][j] = __hsub2(six_bit_pair(sg.sc[j / 4], s8.sc[j / 4], sel, 0x54006400u), k1024and64);
            }
            // A of the mins mma: row g = (m_2t, m_2t+1), row g+8 likewise, in columns 0..7 (times the
            // sums' f16 high parts) and again in 8..15 (times their low parts)
            am[r][0] = h2u(__hsub2(six_bit_pair(sg.m[0], sg.m[1], min_sel, 0x64006400u), k1024));
            am[r][1] = h2u(__hsub2(six_bit_pair(s8.m[0], s8.m[1], min_sel, 0x64006400u), k1024));
        }
    }
    // Q4_K accumulates the unit into c1 (exact integer A), scaled by d once at the end; Q4_0's A
    // already holds d (q - 8) and goes straight into acc.
    float c1[2][2 * NP][4];
    if constexpr (Q4K) {
#pragma unroll
        for (int r = 0; r < 2; ++r)
#pragma unroll
            for (int n = 0; n < 2 * NP; ++n) c1[r][n][0] = c1[r][n][1] = c1[r][n][2] = c1[r][n][3] = 0.0f;
    }
    float(&dst)[2][2 * NP][4] = Q4K ? c1 : acc;
    const __half2 k1032 = __float2half2_rn(1032.0f), k16th = __float2half2_rn(1.0f / 16.0f),
                  km72 = __float2half2_rn(-72.0f), kneg1024 = __float2half2_rn(-1024.0f);
    // The 16 k16-steps of the unit, unrolled and software-pipelined: the B fragments of step i + 1
    // (4 ldmatrix.x4) and the codes of the next chunk are requested before the mma of step i, so
    // that with only 2 warps per scheduler the shared-memory latency hides behind tensor work.
    uint32_t b[2][NP][4];  // [step parity][n-tile pair][fragment]
    auto load_b = [&](uint32_t (&dst)[NP][4], int step) {
#pragma unroll
        for (int np = 0; np < NP; ++np) ldsm_x4(dst[np], sb + (np * 16 * kBRowHalves + step * 16) * 2);
    };
    auto load_q = [&](uint4 (&dst)[2], int c) {
        dst[0] = *reinterpret_cast<const uint4*>(sa + c * kTileChunkBytes);
        dst[1] = *reinterpret_cast<const uint4*>(sa + 2048 + c * kTileChunkBytes);
    };
    uint4 q[2], qn[2];
    load_q(q, 0);
    load_b(b[0], 0);
#pragma unroll
    for (int step = 0; step < 16; ++step) {
        const int c = step >> 2, s = step & 3;
        if (step + 1 < 16) load_b(b[(step + 1) & 1], step + 1);
        if (s == 0 && c + 1 < 4) load_q(qn, c + 1);
        uint2 d0[2];  // Q4_0: {half2(d_g, d_g8) of block 0, of block 1} of this chunk
        if constexpr (!Q4K) {
#pragma unroll
            for (int r = 0; r < 2; ++r) d0[r] = *reinterpret_cast<const uint2*>(ss + r * 256 + c * kTileQ4_0ScaleBytes + g * 8);
        }
        uint32_t A[2][4];
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            const uint32_t w = word(q[r], s), w8 = w >> 8;
            if constexpr (Q4K) {
                // One rounding of an exact result: (1024 + q) sc - 1024 sc = q sc for row g and
                // (1024 + 16 q) sc/16 - 64 sc = q sc for row g+8, both <= 945 (exact in f16).
                const __half2 p = ds[r][step >> 1], np2 = __hmul2(p, kneg1024);
                const __half2 sg = __low2half2(p), ng = __low2half2(np2);
                const __half2 s8 = __high2half2(p), n8 = __high2half2(np2);
                A[r][0] = h2u(__hfma2(magic1024(w, 0x000F000Fu), sg, ng));
                A[r][1] = h2u(__hfma2(magic1024(w, 0x00F000F0u), s8, n8));
                A[r][2] = h2u(__hfma2(magic1024(w8, 0x000F000Fu), sg, ng));
                A[r][3] = h2u(__hfma2(magic1024(w8, 0x00F000F0u), s8, n8));
            } else {
                const __half2 p = u2h(s < 2 ? d0[r].x : d0[r].y);  // d of (row g, row g+8)
                const __half2 lo = __low2half2(p), hi = __high2half2(p);
                A[r][0] = h2u(__hmul2(__hsub2(magic1024(w, 0x000F000Fu), k1032), lo));
                A[r][1] = h2u(__hmul2(__hfma2(magic1024(w, 0x00F000F0u), k16th, km72), hi));
                A[r][2] = h2u(__hmul2(__hsub2(magic1024(w8, 0x000F000Fu), k1032), lo));
                A[r][3] = h2u(__hmul2(__hfma2(magic1024(w8, 0x00F000F0u), k16th, km72), hi));
            }
        }
#pragma unroll
        for (int np = 0; np < NP; ++np) {
            const uint32_t(&bb)[4] = b[step & 1][np];
#pragma unroll
            for (int r = 0; r < 2; ++r) {
                mma_f16_16816(dst[r][2 * np], A[r], bb[0], bb[1]);
                mma_f16_16816(dst[r][2 * np + 1], A[r], bb[2], bb[3]);
            }
        }
        if (s == 3 && c + 1 < 4) q[0] = qn[0], q[1] = qn[1];
    }
    if constexpr (Q4K) {  // acc += d * c1 - dmin * sum_j m_j * X_j, X_j = its f16 high + low parts
#pragma unroll
        for (int n = 0; n < 2 * NP; ++n) {
            const uint8_t* xs = st + G::kOffXs + (n * 8 + g) * 32 + t * 4;  // token n*8+g: 8 high, 8 low halves
            const uint32_t bhi = *reinterpret_cast<const uint32_t*>(xs);
            const uint32_t blo = *reinterpret_cast<const uint32_t*>(xs + 16);
#pragma unroll
            for (int r = 0; r < 2; ++r) {
                const uint32_t A[4] = {am[r][0], am[r][1], am[r][0], am[r][1]};
                float c2[4] = {0.0f, 0.0f, 0.0f, 0.0f};
                mma_f16_16816(c2, A, bhi, blo);
#pragma unroll
                for (int e = 0; e < 4; ++e) acc[r][n][e] += dq[r][e >> 1] * c1[r][n][e] - dm[r][e >> 1] * c2[e];
            }
        }
    }
}

template <bool Q4K, int STAGES, int NP>
__global__ void __launch_bounds__(kThreads, 1) gemm_tile4_kernel(GemmArgs a) {
    using G = Geom<NP>;
    extern __shared__ __align__(16) uint8_t smem[];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const uint32_t tok0 = blockIdx.x * G::kBN, rt0 = blockIdx.y * kRowTiles;
    const uint32_t u_begin = blockIdx.z * a.units_per_split;
    const uint32_t u_end = min(a.n_units, u_begin + a.units_per_split);

    float acc[2][2 * NP][4];
#pragma unroll
    for (int r = 0; r < 2; ++r)
#pragma unroll
        for (int n = 0; n < 2 * NP; ++n) acc[r][n][0] = acc[r][n][1] = acc[r][n][2] = acc[r][n][3] = 0.0f;

    // Pipeline: STAGES - 1 units in flight while one is computed. Every iteration commits one
    // group (empty past the end), so wait_group<STAGES - 2> always means "unit i has landed"; the
    // barrier after it also tells every thread that the stage about to be refilled, read in
    // iteration i - 1, is free.
    const uint32_t n = u_end > u_begin ? u_end - u_begin : 0;
    StageCopies<Q4K, NP> copies(a, rt0, tok0, u_begin);
    // The first stages' weights are requested before waiting for the kernel before (PDL: it may
    // still be running; it never writes weights); they join the first commit group, so "unit i has
    // landed" below still holds for every i.
#pragma unroll
    for (int s = 0; s < STAGES - 1; ++s) {
        if (uint32_t(s) < n) copies.weights(smem + s * G::kStageBytes);
    }
    pdl_wait();  // x16, xsum, invs (and y when accumulating) come from kernels before
    pdl_launch_dependents();
#pragma unroll
    for (int s = 0; s < STAGES - 1; ++s) {
        if (uint32_t(s) < n) copies.acts(smem + s * G::kStageBytes);
        cp_async_commit();
    }
    // Byte offsets of the stage that unit i is read from and of the one unit i + STAGES - 1 is
    // copied into (the stage read in iteration i - 1), rotated instead of computed with %.
    uint32_t read_stage = 0, fill_stage = (STAGES - 1) * G::kStageBytes;
    for (uint32_t i = 0; i < n; ++i) {
        cp_async_wait<STAGES - 2>();
        __syncthreads();
        if (i + STAGES - 1 < n) {
            copies.weights(smem + fill_stage);
            copies.acts(smem + fill_stage);
        }
        cp_async_commit();
        compute_stage<Q4K, NP>(smem + read_stage, warp, lane, acc);
        fill_stage = read_stage;
        read_stage += G::kStageBytes;
        if (read_stage == STAGES * G::kStageBytes) read_stage = 0;
    }

    // C fragment: acc[r][n][0..1] = row g, tokens 2t, 2t+1; [2..3] = row g+8.
    const int g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int r = 0; r < 2; ++r) {
#pragma unroll
        for (int n = 0; n < 2 * NP; ++n) {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const uint32_t row = (rt0 + 2 * warp + r) * 16 + g + (e >> 1) * 8;
                const uint32_t tok = tok0 + n * 8 + 2 * t + (e & 1);
                if (row >= a.n_rows || tok >= a.n_tokens) continue;
                const float v = acc[r][n][e] * __ldg(a.invs + tok);
                if (gridDim.z > 1) {
                    a.partial[(uint64_t(blockIdx.z) * a.n_tokens + tok) * a.n_rows + row] = v;
                } else {
                    float* dst = a.y + uint64_t(tok) * a.n_rows + row;
                    *dst = a.accumulate ? *dst + v : v;
                }
            }
        }
    }
}

// y (+)= sum over splits of partial, in split order.
__global__ void reduce_splits_kernel(const float* __restrict__ partial, uint32_t splits, uint64_t n, float* y,
                                     bool accumulate) {
    pdl_wait();  // the partials come from the kernel before
    pdl_launch_dependents();
    for (uint64_t i = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += uint64_t(gridDim.x) * blockDim.x) {
        float v = 0.0f;
        for (uint32_t s = 0; s < splits; ++s) v += partial[s * n + i];
        y[i] = accumulate ? y[i] + v : v;
    }
}

// Four stages where they fit in sm_90's 227 KB per CTA (the narrow tiles only).
template <int NP>
constexpr bool kFourStagesFit = 4 * Geom<NP>::kStageBytes <= 232448;

// LLCUDA_GEMM_TILE4_STAGES=2|3|4 forces the pipeline depth where it fits, for A/B runs: two
// stages let two narrow-tile CTAs share an SM (16 warps instead of 8; not Q4_K at 32 tokens, whose
// more than 128 registers a thread allow one), four keep more bytes in flight (16- and 32-token tiles only).
// 0 or unset: stages_for (the deepest of 3 and 2 that fits).
uint32_t stages_override() {
    static const uint32_t v = [] {
        const char* e = std::getenv("LLCUDA_GEMM_TILE4_STAGES");
        return e && *e ? uint32_t(std::strtoul(e, nullptr, 10)) : 0u;
    }();
    return v;
}

template <int NP>
int stages_for_device() {
    const size_t optin = device_limits().smem_optin;
    const uint32_t want = stages_override();
    const bool known = want == 2 || want == 3 || (want == 4 && kFourStagesFit<NP>);
    if (known && optin >= want * Geom<NP>::kStageBytes) return int(want);
    return stages_for<NP>(optin);
}

// Calls of up to 32 tokens take the 16- and 32-token tiles (H100, 28672x4096 q4_K: 43.6 us at 16
// tokens and 54.7 at 32, against 76.4 and 77.7 with the 64-token tile, which multiplies padding);
// LLCUDA_GEMM_TILE4_NARROW=0 keeps the 64-token tile for every call, for A/B comparisons.
bool narrow_tiles_enabled() {
    static const bool on = [] {
        const char* v = std::getenv("LLCUDA_GEMM_TILE4_NARROW");
        return !(v && *v && std::string(v) == "0");
    }();
    return on;
}

// Calls fn(kernel, shared-memory bytes) for the kernel instance of this tile and the device's depth.
template <bool Q4K, int NP, class Fn>
void with_kernel(Fn&& fn) {
    const int st = stages_for_device<NP>();
    if constexpr (kFourStagesFit<NP>) {
        if (st == 4) return fn(gemm_tile4_kernel<Q4K, 4, NP>, 4 * Geom<NP>::kStageBytes);
    }
    if (st == 3) return fn(gemm_tile4_kernel<Q4K, 3, NP>, 3 * Geom<NP>::kStageBytes);
    fn(gemm_tile4_kernel<Q4K, 2, NP>, 2 * Geom<NP>::kStageBytes);
}

template <bool Q4K, int NP>
void set_smem_limit() {
    if (stages_for_device<NP>() == 0) return;
    with_kernel<Q4K, NP>([](auto kernel, uint32_t bytes) {
        CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)));
    });
}

template <bool Q4K, int NP>
void launch(const GemmArgs& a, dim3 grid, cudaStream_t stream) {
    with_kernel<Q4K, NP>([&](auto kernel, uint32_t bytes) {
        launch_kernel_pdl(gemm_pdl(), kernel, grid, dim3(kThreads), bytes, stream, "gemm_tile4_kernel", a);
    });
}

// CTAs of this tile resident per SM (shared memory and registers), for the split planner; asked
// once per device (after gemm_tile4_prepare raised the shared-memory limit), at least 1.
template <bool Q4K, int NP>
uint32_t ctas_per_sm() {
    static std::mutex mu;
    static std::vector<uint32_t> cache;  // index: device ordinal; 0: not asked yet
    int dev = 0;
    CUDA_CHECK(cudaGetDevice(&dev));
    std::lock_guard<std::mutex> lock(mu);
    if (size_t(dev) >= cache.size()) cache.resize(size_t(dev) + 1, 0);
    if (cache[size_t(dev)] == 0) {
        int n = 0;
        with_kernel<Q4K, NP>([&](auto kernel, uint32_t bytes) {
            CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kernel, kThreads, bytes));
        });
        cache[size_t(dev)] = uint32_t(std::max(n, 1));
    }
    return cache[size_t(dev)];
}

}  // namespace

void gemm_tile4_prepare() {
    set_smem_limit<false, 4>();
    set_smem_limit<true, 4>();
    if (!narrow_tiles_enabled()) return;
    set_smem_limit<false, 2>();
    set_smem_limit<true, 2>();
    set_smem_limit<false, 1>();
    set_smem_limit<true, 1>();
}

// The widest tile decides: the narrow ones need less shared memory.
bool gemm_tile4_supported() { return stages_for<4>(device_limits().smem_optin) > 0; }

GemmTile4Plan gemm_tile4_plan(const DeviceMatrix& w, uint32_t n_tokens) {
    GemmTile4Plan p;
    const uint64_t n_c = tile4_chunks(w.n_cols);
    p.n_units = uint32_t((n_c + 3) / 4);
    p.ldk = p.n_units * kUnit;
    p.bn = narrow_tiles_enabled() ? (n_tokens <= 16 ? 16u : n_tokens <= 32 ? 32u : 64u) : 64u;
    const uint64_t n_rt = tile4_row_tiles(w.n_rows);
    const uint64_t blocks = ((n_tokens + p.bn - 1) / p.bn) * ((n_rt + kRowTiles - 1) / kRowTiles);
    // Split K when the blocks leave SMs idle (gemm_units_per_split; one CTA per SM unless fewer
    // stages let two share one). E.g. 192 blocks on 132 SMs: 1 split fills 73 % of 2 waves, 2
    // splits 97 % of 3.
    const double weight_bytes = double(n_rt) * 16 * p.n_units * 256 * 0.5625;  // 4.5 bits a weight (Q4_0, Q4_K)
    const double partial_bytes = 8.0 * n_tokens * double(w.n_rows);
    const bool q4k = w.type == GgmlType::Q4_K;
    const uint32_t per_sm = p.bn == 16   ? (q4k ? ctas_per_sm<true, 1>() : ctas_per_sm<false, 1>())
                            : p.bn == 32 ? (q4k ? ctas_per_sm<true, 2>() : ctas_per_sm<false, 2>())
                                         : (q4k ? ctas_per_sm<true, 4>() : ctas_per_sm<false, 4>());
    const uint64_t slots = uint64_t(device_limits().sm_count) * per_sm;
    p.units_per_split = gemm_units_per_split(blocks, p.n_units, slots, weight_bytes, partial_bytes);
    p.splits = (p.n_units + p.units_per_split - 1) / p.units_per_split;
    return p;
}

void gemm_tile4(const DeviceMatrix& w, const GemmTile4Plan& p, const __half* x16, const __half* xsum, const float* invs,
                uint32_t n_tokens, float* y, bool accumulate, float* partial, cudaStream_t stream) {
    const bool q4k = w.type == GgmlType::Q4_K;
    // The kernel holds a token row's byte offset in x16 in 32 bits (StageCopies::act_row).
    if (uint64_t(n_tokens) * p.ldk * 2 > UINT32_MAX) {
        throw Error(ErrorKind::Unsupported, "gemm_tile4: " + std::to_string(n_tokens) + " tokens x " +
                                                std::to_string(p.ldk) + " f16 columns exceed 4 GiB");
    }
    GemmArgs a{};
    a.quant = w.data;
    a.side = w.data + w.aux_offset;
    a.n_rows = uint32_t(w.n_rows);
    a.n_rt = uint32_t(tile4_row_tiles(w.n_rows));
    a.n_c = uint32_t(tile4_chunks(w.n_cols));
    a.n_units = p.n_units;
    a.x16 = x16;
    a.ldk = p.ldk;
    a.xsum = xsum;
    a.invs = invs;
    a.n_tokens = n_tokens;
    a.y = y;
    a.partial = partial;
    a.units_per_split = p.units_per_split;
    a.accumulate = accumulate;
    const dim3 grid((n_tokens + p.bn - 1) / p.bn, (a.n_rt + kRowTiles - 1) / kRowTiles, p.splits);
    if (p.bn == 16) q4k ? launch<true, 1>(a, grid, stream) : launch<false, 1>(a, grid, stream);
    else if (p.bn == 32) q4k ? launch<true, 2>(a, grid, stream) : launch<false, 2>(a, grid, stream);
    else q4k ? launch<true, 4>(a, grid, stream) : launch<false, 4>(a, grid, stream);
    if (p.splits > 1) {
        const uint64_t n = uint64_t(n_tokens) * w.n_rows;
        const unsigned blocks = unsigned(std::min<uint64_t>((n + 255) / 256, uint64_t(device_limits().sm_count) * 8));
        launch_kernel_pdl(gemm_pdl(), reduce_splits_kernel, dim3(blocks), dim3(256), 0, stream, "reduce_splits_kernel",
                          static_cast<const float*>(partial), p.splits, n, y, accumulate);
    }
}

}  // namespace llcuda::cuda
