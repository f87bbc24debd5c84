// Greedy sampling on the device: the argmax of each logits row, so that only token ids cross to
// the host. Ties go to the lowest id, as std::max_element does on the CPU.
//
// A 128k-262k vocabulary is 0.5-1 MB per row, more than one SM reads quickly; with scratch the
// row is cut into chunks of kChunk floats, one block each (every thread's loads in flight at
// once), whose winners a second small kernel reduces. Without scratch one block per row scans it.
#include <cuda_runtime.h>

#include <climits>
#include <type_traits>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels.h"
#include "backend/cuda/ops_common.cuh"

namespace llcuda::cuda {

namespace {

constexpr int kRowThreads = 1024;   // one block per row
constexpr int kChunkThreads = 128;  // one block per chunk
constexpr int kChunkItems = 4;      // float4s per thread and chunk
constexpr uint32_t kChunk = kChunkThreads * kChunkItems * 4;  // floats per chunk (2048)
constexpr int kFinalThreads = 256;
constexpr int kNone = INT_MAX;  // "no element seen yet": loses to any real candidate

struct Best {
    float v;
    int i;
};

// True when a beats b: larger value, or equal value and lower id. A thread scans its elements in
// increasing id order and replaces only on a strictly larger value, so each thread already keeps
// its lowest tied id; this rule keeps that across threads and blocks.
__device__ __forceinline__ bool beats(Best a, Best b) {
    if (b.i == kNone) return a.i != kNone;
    if (a.i == kNone) return false;
    return a.v > b.v || (a.v == b.v && a.i < b.i);
}

__device__ __forceinline__ void consider(Best& best, float v, int i) {
    if (best.i == kNone || v > best.v) best = {v, i};
}
__device__ __forceinline__ void consider(Best& best, float4 v, int i) {
    consider(best, v.x, i);
    consider(best, v.y, i + 1);
    consider(best, v.z, i + 2);
    consider(best, v.w, i + 3);
}

__device__ __forceinline__ Best warp_best(Best b) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const Best other{__shfl_xor_sync(ops::kFullMask, b.v, o), __shfl_xor_sync(ops::kFullMask, b.i, o)};
        if (beats(other, b)) b = other;
    }
    return b;
}

// The block's best (valid in thread 0). `red`: blockDim.x / 32 entries of shared memory.
__device__ __forceinline__ Best block_best(Best best, Best* red) {
    best = warp_best(best);
    const unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) red[warp] = best;
    __syncthreads();
    if (warp == 0) {
        best = lane < blockDim.x / 32 ? red[lane] : Best{-INFINITY, kNone};
        best = warp_best(best);
    }
    return best;
}

// Four floats (16-byte loads: n_vocab % 4 == 0 and aligned logits) or one.
template <bool kVec>
using Item = std::conditional_t<kVec, float4, float>;
constexpr int width(bool vec) { return vec ? 4 : 1; }

// One block per row, 4 loads in flight per thread per pass.
template <bool kVec>
__global__ void __launch_bounds__(kRowThreads) argmax_rows_kernel(const float* logits, uint32_t n_vocab, int32_t* ids) {
    __shared__ Best red[kRowThreads / 32];
    const Item<kVec>* row = reinterpret_cast<const Item<kVec>*>(logits + uint64_t(blockIdx.x) * n_vocab);
    const uint32_t n = n_vocab / width(kVec);
    Best best{-INFINITY, kNone};
    for (uint32_t i0 = threadIdx.x; i0 < n; i0 += 4 * kRowThreads) {
        Item<kVec> v[4];
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            const uint32_t i = i0 + uint32_t(k) * kRowThreads;
            if (i < n) v[k] = row[i];
        }
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            const uint32_t i = i0 + uint32_t(k) * kRowThreads;
            if (i < n) consider(best, v[k], int(i) * width(kVec));
        }
    }
    best = block_best(best, red);
    if (threadIdx.x == 0) ids[blockIdx.x] = best.i == kNone ? 0 : best.i;
}

// Grid (chunks, rows): each block writes its chunk's best to parts[row * n_chunks + chunk].
template <bool kVec>
__global__ void __launch_bounds__(kChunkThreads) argmax_chunks_kernel(const float* logits, uint32_t n_vocab,
                                                                      uint32_t n_chunks, Best* parts) {
    __shared__ Best red[kChunkThreads / 32];
    constexpr uint32_t kPer = kChunk / width(kVec);  // items per chunk
    const uint32_t row = blockIdx.y;
    const Item<kVec>* r = reinterpret_cast<const Item<kVec>*>(logits + uint64_t(row) * n_vocab);
    const uint32_t n = n_vocab / width(kVec);
    const uint32_t base = blockIdx.x * kPer;
    constexpr int kLoads = int(kPer / kChunkThreads);
    Item<kVec> v[kLoads];
#pragma unroll
    for (int k = 0; k < kLoads; ++k) {
        const uint32_t i = base + threadIdx.x + uint32_t(k) * kChunkThreads;
        if (i < n) v[k] = r[i];
    }
    Best best{-INFINITY, kNone};
#pragma unroll
    for (int k = 0; k < kLoads; ++k) {
        const uint32_t i = base + threadIdx.x + uint32_t(k) * kChunkThreads;
        if (i < n) consider(best, v[k], int(i) * width(kVec));
    }
    best = block_best(best, red);
    if (threadIdx.x == 0) parts[uint64_t(row) * n_chunks + blockIdx.x] = best;
}

// One block per row: the best of its chunks' winners.
__global__ void __launch_bounds__(kFinalThreads) argmax_final_kernel(const Best* parts, uint32_t n_chunks, int32_t* ids) {
    __shared__ Best red[kFinalThreads / 32];
    const Best* p = parts + uint64_t(blockIdx.x) * n_chunks;
    Best best{-INFINITY, kNone};
    for (uint32_t c = threadIdx.x; c < n_chunks; c += kFinalThreads) {
        const Best b = p[c];
        if (beats(b, best)) best = b;
    }
    best = block_best(best, red);
    if (threadIdx.x == 0) ids[blockIdx.x] = best.i == kNone ? 0 : best.i;
}

void check_vocab(uint32_t n_vocab) {
    if (n_vocab == 0 || n_vocab > uint32_t(INT_MAX)) {
        ops::invalid("argmax_rows: bad vocabulary size " + std::to_string(n_vocab));
    }
}

uint32_t chunks_of(uint32_t n_vocab) { return uint32_t(ops::ceil_div(n_vocab, kChunk)); }

}  // namespace

void argmax_rows(const float* logits, uint32_t n_rows, uint32_t n_vocab, int32_t* ids, cudaStream_t stream) {
    if (n_rows == 0) return;
    check_vocab(n_vocab);
    if (n_vocab % 4 == 0 && ops::aligned16(logits)) {
        argmax_rows_kernel<true><<<n_rows, kRowThreads, 0, stream>>>(logits, n_vocab, ids);
    } else {
        argmax_rows_kernel<false><<<n_rows, kRowThreads, 0, stream>>>(logits, n_vocab, ids);
    }
    check_launch("argmax_rows");
}

uint64_t argmax_scratch_bytes(uint32_t max_rows, uint32_t n_vocab) {
    return n_vocab == 0 ? 0 : uint64_t(max_rows) * chunks_of(n_vocab) * sizeof(Best);
}

void argmax_rows(const float* logits, uint32_t n_rows, uint32_t n_vocab, int32_t* ids, void* scratch,
                 cudaStream_t stream) {
    if (n_rows == 0) return;
    check_vocab(n_vocab);
    const uint32_t n_chunks = chunks_of(n_vocab);
    if (n_chunks == 1) {  // one block would do the row anyway
        argmax_rows(logits, n_rows, n_vocab, ids, stream);
        return;
    }
    if (scratch == nullptr) ops::invalid("argmax_rows: no scratch buffer (argmax_scratch_bytes)");
    if (n_rows > 65535) ops::invalid("argmax_rows: " + std::to_string(n_rows) + " rows exceed one launch's 65535");
    Best* parts = static_cast<Best*>(scratch);
    const dim3 grid(n_chunks, n_rows);
    if (n_vocab % 4 == 0 && ops::aligned16(logits)) {
        argmax_chunks_kernel<true><<<grid, kChunkThreads, 0, stream>>>(logits, n_vocab, n_chunks, parts);
    } else {
        argmax_chunks_kernel<false><<<grid, kChunkThreads, 0, stream>>>(logits, n_vocab, n_chunks, parts);
    }
    check_launch("argmax_rows (chunks)");
    argmax_final_kernel<<<n_rows, kFinalThreads, 0, stream>>>(parts, n_chunks, ids);
    check_launch("argmax_rows (final)");
}

}  // namespace llcuda::cuda
