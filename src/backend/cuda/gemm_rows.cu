// Matrix products for 9..64 tokens over kLayoutRows matrices (Q8_0, Q5_K, Q6_K, Q2_K, Q3_K, the
// 32-value legacy types, IQ4_NL, IQ4_XS) on tensor cores, reading the quantized rows as they are
// stored: no dequantized copy of the matrix in global memory.
//
// Why: the dequantize-then-cuBLAS path writes and reads 2 bytes per weight on top of the ~0.8 bytes
// of a Q6_K code, every call. A batched decode step of 16-64 sequences of a Q4_K_M model spent
// 190-370 us in each Q6_K product (ffn_down, attn_v, the output head) for 6 % of the bandwidth.
//
// The kernel: a CTA owns 128 rows x BN tokens (BN = 16, 32 or 64; 8 warps of 16 rows x BN).
// Per 256-column chunk it
//  1. decodes the chunk's items, already in registers, into an f16 tile in shared memory
//     (128 rows x 256 columns, one f16 rounding per weight: the same values as the dequantize path,
//     decoded with the matrix-vector kernels' per-type traits, matvec_rows.cuh);
//  2. issues the global loads of the next chunk's items into the same registers and cp.async of
//     the next chunk's activations (BN x 256 f16, double-buffered), so that both are in flight
//     while
//  3. the warps run the 16 k16-steps of mma.m16n8k16 (A and B fragments by ldmatrix.x4).
// One item = one 16-byte load of codes (+ a second for the high bits of Q3_K/Q5_K/Q6_K) and its
// block's side bytes; thread i loads items i, i + 256, ... of the chunk, item index fastest along a
// row, so a warp reads runs of 128-256 contiguous bytes per row.
// Split-K over grid.y when row x token blocks leave SMs idle (ffn_down at 4096 rows: 32 blocks on
// 132 SMs); the partials are summed in a fixed order by a second kernel (deterministic).
// Activations: matmul's f16 copy with one power-of-two scale per call; alpha (its inverse, on the
// device) is applied in the epilogue. Precision is the dequantize path's (f16 weights and
// activations, f32 accumulation); only the summation order differs.
#include <cuda_fp16.h>

#include <algorithm>

#include "backend/cuda/async_copy.cuh"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/decode_dispatch.cuh"
#include "backend/cuda/gemm_rows.h"
#include "backend/cuda/matmul_internal.h"
#include "backend/cuda/matmul_layout.h"
#include "backend/cuda/matvec_rows.cuh"
#include "backend/cuda/matvec_stream.cuh"
#include "backend/cuda/mma_f16.cuh"

namespace llcuda::cuda {
namespace {

constexpr int kThreads = 256;                 // 8 warps
constexpr uint32_t kBM = 128;                 // rows per CTA: 16 per warp
constexpr uint32_t kChunk = 256;              // columns per pipeline step
constexpr uint32_t kRowHalves = kChunk + 8;   // +16 bytes per smem row: ldmatrix rows hit distinct banks

// Shared memory: W tile [kBM][kRowHalves] f16, then 2 activation buffers [BN][kRowHalves] f16.
template <int BN>
constexpr uint32_t smem_bytes() {
    return (kBM + 2 * uint32_t(BN)) * kRowHalves * 2;
}

struct RowsGemmArgs {
    const uint8_t* quant;
    const uint8_t* side;
    uint32_t nb;               // blocks per row
    uint32_t n_rows;
    const __half* x16;         // (n_tokens, ldx)
    uint32_t ldx;
    uint32_t n_tokens;
    const float* alpha;        // [0]: the activations' inverse scale
    float* y;                  // (n_tokens, n_rows)
    float* partial;            // (splits, n_tokens, n_rows) when gridDim.y > 1
    uint32_t n_chunks, chunks_per_split;
    bool accumulate;
};

// The items of one 256-column chunk of one row: kBlocks blocks of kIPB items.
template <GgmlType T>
struct ChunkShape {
    using Tr = rows::Traits<T>;
    static constexpr RowsGeom G = rows_geom(T);
    static constexpr int kBlocks = int(kChunk / G.elems);
    static constexpr int kPerRow = kBlocks * Tr::kIPB;              // items per row
    static constexpr int kPerThread = int(kBM) * kPerRow / kThreads;
    static_assert((kPerRow & (kPerRow - 1)) == 0 && kPerThread >= 1, "items per row: a power of two");
};

// Loads the thread's items of chunk `chunk` for rows row0.. (rows past the end read the last row;
// their products are never stored).
template <GgmlType T>
__device__ __forceinline__ void load_items(rows::Item (&it)[ChunkShape<T>::kPerThread], const RowsGemmArgs& a,
                                           uint32_t row0, uint32_t chunk) {
    using S = ChunkShape<T>;
#pragma unroll
    for (int i = 0; i < S::kPerThread; ++i) {
        const uint32_t idx = threadIdx.x + kThreads * i;
        const uint32_t rl = idx / S::kPerRow, sub = idx % S::kPerRow;
        const uint32_t row = min(row0 + rl, a.n_rows - 1);
        const uint64_t blk = uint64_t(row) * a.nb + chunk * S::kBlocks + sub / S::Tr::kIPB;
        it[i] = S::Tr::load(a.quant + blk * S::G.qb, a.side + blk * S::G.sb, int(sub % S::Tr::kIPB));
    }
}

// Decodes the items into the W tile: value = code * mul + add in f32, rounded once to f16.
template <GgmlType T>
__device__ __forceinline__ void store_items(__half* ws, const rows::Item (&it)[ChunkShape<T>::kPerThread]) {
    using S = ChunkShape<T>;
    using Tr = typename S::Tr;
#pragma unroll
    for (int i = 0; i < S::kPerThread; ++i) {
        const uint32_t idx = threadIdx.x + kThreads * i;
        const uint32_t rl = idx / S::kPerRow, sub = idx % S::kPerRow;
        const int b = int(sub / Tr::kIPB), s = int(sub % Tr::kIPB);
        __half* row = ws + rl * kRowHalves + b * int(S::G.elems);
#pragma unroll
        for (int seg = 0; seg < Tr::kNSeg; ++seg) {
            float mul = 1.0f, add = 0.0f;
            Tr::scale(it[i], s, seg, mul, add);
            if constexpr (!Tr::kHasMin) add = 0.0f;
            __half* dst = row + Tr::seg_col(s, seg);
#pragma unroll
            for (int i4 = 0; i4 < Tr::kSegLen / 4; ++i4) {
                const float4 c = Tr::codes(it[i], s, seg, i4);
                const __half2 h0 = __floats2half2_rn(fmaf(c.x, mul, add), fmaf(c.y, mul, add));
                const __half2 h1 = __floats2half2_rn(fmaf(c.z, mul, add), fmaf(c.w, mul, add));
                uint2 u;
                memcpy(&u.x, &h0, 4);
                memcpy(&u.y, &h1, 4);
                *reinterpret_cast<uint2*>(dst + 4 * i4) = u;
            }
        }
    }
}

// cp.async of the chunk's activations: BN tokens x 512 bytes (tokens past the end zero-filled).
template <int BN>
__device__ __forceinline__ void load_x(__half* xs, const RowsGemmArgs& a, uint32_t tok0, uint32_t chunk) {
    constexpr int kPieces = BN * 32;  // 16-byte pieces
#pragma unroll
    for (int i = 0; i < (kPieces + kThreads - 1) / kThreads; ++i) {
        const int idx = int(threadIdx.x) + kThreads * i;
        if (kPieces % kThreads != 0 && idx >= kPieces) break;
        const uint32_t tk = uint32_t(idx) / 32, off = (uint32_t(idx) % 32) * 8;  // off in halves
        const bool ok = tok0 + tk < a.n_tokens;
        const __half* src = ok ? a.x16 + uint64_t(tok0 + tk) * a.ldx + chunk * kChunk + off : a.x16;
        cp_async16(xs + tk * kRowHalves + off, src, ok);
    }
}

// acc[n] += W tile (this warp's 16 rows) x activation n-tile n, over the chunk's 256 columns.
template <int BN>
__device__ __forceinline__ void compute_chunk(const __half* ws, const __half* xs, int warp, int lane,
                                              float (&acc)[BN / 8][4]) {
    // A (ldmatrix.x4): matrix m = lane / 8 holds rows (m & 1) * 8.., columns (m >> 1) * 8..
    const __half* wa = ws + (warp * 16 + (lane & 15)) * kRowHalves + (lane >> 4) * 8;
    // B: matrix m holds tokens (m >> 1) * 8.. of an n-tile pair, columns (m & 1) * 8..
    const __half* xb = xs + ((lane >> 4) * 8 + (lane & 7)) * kRowHalves + ((lane >> 3) & 1) * 8;
#pragma unroll
    for (int step = 0; step < int(kChunk / 16); ++step) {
        uint32_t A[4];
        ldsm_x4(A, wa + step * 16);
#pragma unroll
        for (int np = 0; np < BN / 16; ++np) {
            uint32_t b[4];
            ldsm_x4(b, xb + np * 16 * kRowHalves + step * 16);
            mma_f16_16816(acc[2 * np], A, b[0], b[1]);
            mma_f16_16816(acc[2 * np + 1], A, b[2], b[3]);
        }
    }
}

template <GgmlType T, int BN>
__global__ void __launch_bounds__(kThreads, BN == 64 ? 1 : 2) gemm_rows_kernel(RowsGemmArgs a) {
    extern __shared__ __align__(16) uint8_t smem[];
    __half* ws = reinterpret_cast<__half*>(smem);   // [kBM][kRowHalves]
    __half* xs = ws + kBM * kRowHalves;              // [2][BN][kRowHalves]
    const int warp = int(threadIdx.x) >> 5, lane = int(threadIdx.x) & 31;
    const uint32_t row0 = blockIdx.x * kBM, tok0 = blockIdx.z * uint32_t(BN);
    const uint32_t c_begin = blockIdx.y * a.chunks_per_split;
    const uint32_t c_end = min(a.n_chunks, c_begin + a.chunks_per_split);

    float acc[BN / 8][4];
#pragma unroll
    for (int n = 0; n < BN / 8; ++n) acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.0f;

    rows::Item it[ChunkShape<T>::kPerThread];
    if (c_begin < c_end) load_items<T>(it, a, row0, c_begin);  // weights: no kernel writes them
    pdl_wait();  // x16 and alpha (and y when accumulating) come from kernels before
    pdl_launch_dependents();
    if (c_begin < c_end) load_x<BN>(xs, a, tok0, c_begin);
    cp_async_commit();
    for (uint32_t c = c_begin; c < c_end; ++c) {
        const uint32_t buf = (c - c_begin) & 1;
        __syncthreads();  // every warp is done with the W tile and with the other activation buffer
        store_items<T>(ws, it);
        if (c + 1 < c_end) {
            load_items<T>(it, a, row0, c + 1);
            load_x<BN>(xs + (buf ^ 1) * BN * kRowHalves, a, tok0, c + 1);
        }
        cp_async_commit();
        cp_async_wait<1>();  // this chunk's activations have landed
        __syncthreads();     // ... for every thread, and the W tile is complete
        compute_chunk<BN>(ws, xs + buf * BN * kRowHalves, warp, lane, acc);
    }

    // C fragment: acc[n][0..1] = row g, tokens 2t, 2t+1; acc[n][2..3] = row g + 8.
    const int g = lane >> 2, t = lane & 3;
    const float alpha = __ldg(a.alpha);
#pragma unroll
    for (int n = 0; n < BN / 8; ++n) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
            const uint32_t row = row0 + uint32_t(warp * 16 + g + (e >> 1) * 8);
            const uint32_t tok = tok0 + uint32_t(n * 8 + 2 * t + (e & 1));
            if (row >= a.n_rows || tok >= a.n_tokens) continue;
            if (gridDim.y > 1) {
                a.partial[(uint64_t(blockIdx.y) * a.n_tokens + tok) * a.n_rows + row] = acc[n][e];
            } else {
                float* dst = a.y + uint64_t(tok) * a.n_rows + row;
                const float v = acc[n][e] * alpha;
                *dst = a.accumulate ? *dst + v : v;
            }
        }
    }
}

// y (+)= alpha * (sum over splits of partial, in split order).
__global__ void reduce_rows_splits_kernel(const float* __restrict__ partial, uint32_t splits, uint64_t n,
                                          const float* __restrict__ alpha, float* y, bool accumulate) {
    pdl_wait();  // the partials come from the kernel before
    pdl_launch_dependents();
    const float al = __ldg(alpha);
    for (uint64_t i = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += uint64_t(gridDim.x) * blockDim.x) {
        float v = 0.0f;
        for (uint32_t s = 0; s < splits; ++s) v += partial[s * n + i];
        v *= al;
        y[i] = accumulate ? y[i] + v : v;
    }
}

// The rows-layout types gemm_rows takes: all but the plain floats (cuBLAS uses F16 in place).
bool is_float_type(GgmlType t) { return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16; }

// Calls fn(type tag) for w's type through the decoders' switch (decode_dispatch.cuh), only for the
// quantized rows types: other instances are never built.
template <class Fn>
void with_rows_type(const DeviceMatrix& w, Fn&& fn) {
    dispatch_decoder(w, [&](auto type_tag, auto tile_tag) {
        constexpr GgmlType T = decltype(type_tag)::value;
        if constexpr (!decltype(tile_tag)::value && T != GgmlType::F32 && T != GgmlType::F16 && T != GgmlType::BF16)
            fn(type_tag);
        else
            throw Error(ErrorKind::Internal, "gemm_rows: no kernel for " + describe_matrix(w));
    });
}

// The widest token tile (64, 32, 16) whose shared memory fits the device; 0 if none does.
uint32_t widest_tile() {
    const size_t optin = device_limits().smem_optin;
    return optin >= smem_bytes<64>() ? 64u : optin >= smem_bytes<32>() ? 32u : optin >= smem_bytes<16>() ? 16u : 0u;
}

template <GgmlType T, int BN>
void set_smem_limit() {
    CUDA_CHECK(cudaFuncSetAttribute(gemm_rows_kernel<T, BN>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                    int(smem_bytes<BN>())));
}

}  // namespace

bool gemm_rows_supported(const DeviceMatrix& w) {
    if (w.layout != kLayoutRows || is_float_type(w.type)) return false;
    return w.n_rows > 0 && w.n_cols > 0 && w.n_cols % kChunk == 0 && widest_tile() > 0;
}

void gemm_rows_prepare(const DeviceMatrix& w) {
    const uint32_t widest = widest_tile();
    with_rows_type(w, [&](auto tag) {
        constexpr GgmlType T = decltype(tag)::value;
        if (widest >= 16) set_smem_limit<T, 16>();
        if (widest >= 32) set_smem_limit<T, 32>();
        if (widest >= 64) set_smem_limit<T, 64>();
    });
}

GemmRowsPlan gemm_rows_plan(const DeviceMatrix& w, uint32_t n_tokens) {
    GemmRowsPlan p;
    p.n_chunks = uint32_t(w.n_cols / kChunk);
    const uint32_t widest = widest_tile();
    p.bn = std::min(widest, n_tokens <= 16 ? 16u : n_tokens <= 32 ? 32u : 64u);
    const uint64_t row_blocks = (w.n_rows + kBM - 1) / kBM;
    const uint64_t blocks = row_blocks * ((n_tokens + p.bn - 1) / p.bn);
    // Split K when the blocks leave SMs idle (gemm_units_per_split; 2 CTAs per SM below 64 tokens).
    const uint64_t slots = uint64_t(device_limits().sm_count) * (p.bn == 64 ? 1 : 2);
    const RowsGeom g = rows_geom(w.type);
    const double weight_bytes = double(w.n_rows) * p.n_chunks * (kChunk / g.elems) * double(g.qb + g.sb);
    const double partial_bytes = 8.0 * n_tokens * double(w.n_rows);
    p.chunks_per_split = gemm_units_per_split(blocks, p.n_chunks, slots, weight_bytes, partial_bytes);
    p.splits = (p.n_chunks + p.chunks_per_split - 1) / p.chunks_per_split;
    return p;
}

void gemm_rows(const DeviceMatrix& w, const GemmRowsPlan& p, const __half* x16, uint32_t ldx, const float* alpha,
               uint32_t n_tokens, float* y, bool accumulate, float* partial, cudaStream_t stream) {
    RowsGemmArgs a{};
    a.quant = w.data;
    a.side = w.data + w.aux_offset;
    a.nb = uint32_t(rows_blocks_per_row(w.type, w.n_cols));
    a.n_rows = uint32_t(w.n_rows);
    a.x16 = x16;
    a.ldx = ldx;
    a.n_tokens = n_tokens;
    a.alpha = alpha;
    a.y = y;
    a.partial = partial;
    a.n_chunks = p.n_chunks;
    a.chunks_per_split = p.chunks_per_split;
    a.accumulate = accumulate;
    const dim3 grid(uint32_t((w.n_rows + kBM - 1) / kBM), p.splits, (n_tokens + p.bn - 1) / p.bn);
    with_rows_type(w, [&](auto tag) {
        constexpr GgmlType T = decltype(tag)::value;
        const dim3 block(kThreads);
        if (p.bn == 16) launch_kernel_pdl(gemm_pdl(), gemm_rows_kernel<T, 16>, grid, block, smem_bytes<16>(), stream, "gemm_rows_kernel", a);
        else if (p.bn == 32) launch_kernel_pdl(gemm_pdl(), gemm_rows_kernel<T, 32>, grid, block, smem_bytes<32>(), stream, "gemm_rows_kernel", a);
        else launch_kernel_pdl(gemm_pdl(), gemm_rows_kernel<T, 64>, grid, block, smem_bytes<64>(), stream, "gemm_rows_kernel", a);
    });
    if (p.splits > 1) {
        const uint64_t n = uint64_t(n_tokens) * w.n_rows;
        const unsigned blocks = unsigned(std::min<uint64_t>((n + 255) / 256, uint64_t(device_limits().sm_count) * 8));
        launch_kernel_pdl(gemm_pdl(), reduce_rows_splits_kernel, dim3(blocks), dim3(256), 0, stream,
                          "reduce_rows_splits_kernel", static_cast<const float*>(partial), p.splits, n, alpha, y, accumulate);
    }
}

}  // namespace llcuda::cuda
