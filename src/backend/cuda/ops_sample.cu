// Greedy sampling on the device: the argmax of each logits row, so that only token ids cross to
// the host. Ties go to the lowest id, as std::max_element does on the CPU.
#include <cuda_runtime.h>

#include <climits>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels.h"
#include "backend/cuda/ops_common.cuh"

namespace llcuda::cuda {

namespace {

constexpr int kThreads = 1024;
constexpr int kNone = INT_MAX;
static_assert(kThreads == 1024, "the second reduction stage gives one warp entry per lane");  // "no element seen yet": loses to any real candidate

struct Best {
    float v;
    int i;
};

// True when a beats b: larger value, or equal value and lower id. A thread scans its elements in
// increasing id order and replaces only on a strictly larger value, so each thread already keeps
// its lowest tied id; this rule keeps that across threads.
__device__ __forceinline__ bool beats(Best a, Best b) {
    if (b.i == kNone) return a.i != kNone;
    if (a.i == kNone) return false;
    return a.v > b.v || (a.v == b.v && a.i < b.i);
}

__device__ __forceinline__ void consider(Best& best, float v, int i) {
    if (best.i == kNone || v > best.v) best = {v, i};
}

__device__ __forceinline__ Best warp_best(Best b) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const Best other{__shfl_xor_sync(ops::kFullMask, b.v, o), __shfl_xor_sync(ops::kFullMask, b.i, o)};
        if (beats(other, b)) b = other;
    }
    return b;
}

// One block per row (rows are few: one per sequence); kVec reads float4s (n_vocab % 4 == 0 and
// the logits 16-byte aligned).
template <bool kVec>
__global__ void __launch_bounds__(kThreads) argmax_rows_kernel(const float* logits, uint32_t n_vocab, int32_t* ids) {
    __shared__ Best red[kThreads / 32];
    const float* row = logits + uint64_t(blockIdx.x) * n_vocab;
    Best best{-INFINITY, kNone};
    if (kVec) {
        const float4* r4 = reinterpret_cast<const float4*>(row);
        for (uint32_t i = threadIdx.x; i < n_vocab / 4; i += kThreads) {
            const float4 a = r4[i];
            consider(best, a.x, int(4 * i));
            consider(best, a.y, int(4 * i + 1));
            consider(best, a.z, int(4 * i + 2));
            consider(best, a.w, int(4 * i + 3));
        }
    } else {
        for (uint32_t i = threadIdx.x; i < n_vocab; i += kThreads) consider(best, row[i], int(i));
    }
    best = warp_best(best);
    const unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) red[warp] = best;
    __syncthreads();
    if (warp == 0) {
        best = red[lane];  // kThreads / 32 == 32 entries, one per lane
        best = warp_best(best);
        if (lane == 0) ids[blockIdx.x] = best.i == kNone ? 0 : best.i;
    }
}

}  // namespace

void argmax_rows(const float* logits, uint32_t n_rows, uint32_t n_vocab, int32_t* ids, cudaStream_t stream) {
    if (n_rows == 0) return;
    if (n_vocab == 0 || n_vocab > uint32_t(INT_MAX)) ops::invalid("argmax_rows: bad vocabulary size " + std::to_string(n_vocab));
    if (n_vocab % 4 == 0 && ops::aligned16(logits)) {
        argmax_rows_kernel<true><<<n_rows, kThreads, 0, stream>>>(logits, n_vocab, ids);
    } else {
        argmax_rows_kernel<false><<<n_rows, kThreads, 0, stream>>>(logits, n_vocab, ids);
    }
    check_launch("argmax_rows");
}

}  // namespace llcuda::cuda
