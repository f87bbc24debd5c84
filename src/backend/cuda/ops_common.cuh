// Small device helpers shared by the ops_*.cu kernels: warp and block reductions, launch-shape
// arithmetic and the argument checks every entry point makes before it launches.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "llcuda/error.h"

namespace llcuda::cuda::ops {

constexpr unsigned kFullMask = 0xffffffffu;

__host__ __device__ constexpr uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

// Split count (1..max_splits) for a grid of `blocks` that already fills a wave of `wave` slots
// but leaves its last one partly empty: the count whose waves are clearly fuller (10 points per
// step up) than with fewer splits. It only moves up as max_splits grows (attention's scratch
// bounds rely on that). E.g. 512 blocks on 396 slots: 1 split 65 % busy, 2 86 %, 3 97 % -> 3.
inline uint64_t tail_split_count(uint64_t blocks, uint64_t wave, uint64_t max_splits) {
    auto fill = [&](uint64_t s) {
        const uint64_t b = blocks * s;
        return double(b) / double(ceil_div(b, wave) * wave);
    };
    uint64_t splits = 1;
    double best = fill(1);
    for (uint64_t s = 2; s <= max_splits; ++s) {
        if (fill(s) > best + 0.1) best = fill(s), splits = s;
    }
    return splits;
}

// Sum over the 32 lanes of a warp; every lane gets the same bits (a xor butterfly adds each pair in
// both orders, and float addition is commutative), which the attention kernel relies on.
__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFullMask, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(kFullMask, v, o));
    return v;
}

// Sum over the whole block (blockDim.x a multiple of 32, at most 1024); every thread gets the
// result. `red` is 32 floats of shared memory, free again when this returns.
__device__ __forceinline__ float block_sum(float v, float* red) {
    v = warp_sum(v);
    const unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) red[warp] = v;
    __syncthreads();
    v = lane < blockDim.x / 32 ? red[lane] : 0.0f;
    v = warp_sum(v);
    __syncthreads();
    return v;
}

// Maximum over the whole block, same contract as block_sum.
__device__ __forceinline__ float block_max(float v, float* red) {
    v = warp_max(v);
    const unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) red[warp] = v;
    __syncthreads();
    v = lane < blockDim.x / 32 ? red[lane] : -INFINITY;
    v = warp_max(v);
    __syncthreads();
    return v;
}

inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// Grid y is limited to 65535; kernels that put rows on y loop over the rest.
inline unsigned grid_rows(uint64_t n_rows) { return unsigned(n_rows < 65535 ? n_rows : 65535); }

[[noreturn]] inline void invalid(const std::string& what) { throw Error(ErrorKind::InvalidArgument, what); }
[[noreturn]] inline void unsupported(const std::string& what) { throw Error(ErrorKind::Unsupported, what); }

}  // namespace llcuda::cuda::ops
