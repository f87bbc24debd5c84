// RMSNorm in its three uses: whole rows (pre-norms, output norm), whole rows added into the residual
// stream (Gemma's post-norms), and each head of q/k on its own (Qwen3/Gemma-3 QK-norm).
// Arithmetic follows cpu::rms_norm: scale = 1 / sqrt(mean(x^2) + eps), out = x * scale * w.
//
// These run at decode on one to a few rows, where a kernel's cost is its chain of memory round
// trips, not its bandwidth: each thread loads everything it needs (its x, w and, when adding, the
// residual: 16-byte loads, up to 8 per array) before the one reduction, keeps it in registers and
// writes once, so a row costs one load round trip, one block reduction and the stores. Launched
// with programmatic dependent launch (matvec_stream.cuh): a kernel may start while the previous one
// finishes, reads only weights until pdl_wait(), and lets the next kernel start right after.
#include <cuda_runtime.h>

#include <type_traits>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels.h"
#include "backend/cuda/matvec_stream.cuh"
#include "backend/cuda/ops_common.cuh"

namespace llcuda::cuda {

namespace {

using ops::block_sum;
using ops::warp_sum;

constexpr int kMaxRowThreads = 512;
constexpr int kMaxItems = 8;  // register-held loads per thread and array

// Four floats (16-byte accesses) or one.
template <bool kVec>
using Vec = std::conditional_t<kVec, float4, float>;

__device__ __forceinline__ float sum_sq(float a) { return a * a; }
__device__ __forceinline__ float sum_sq(float4 a) { return a.x * a.x + a.y * a.y + a.z * a.z + a.w * a.w; }
__device__ __forceinline__ float norm_mul(float a, float scale, float b) { return a * scale * b; }
__device__ __forceinline__ float4 norm_mul(float4 a, float scale, float4 b) {
    return make_float4(a.x * scale * b.x, a.y * scale * b.y, a.z * scale * b.z, a.w * scale * b.w);
}
__device__ __forceinline__ float add(float a, float b) { return a + b; }
__device__ __forceinline__ float4 add(float4 a, float4 b) { return make_float4(a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w); }

// One block per row, thread t holding items t, t + blockDim.x, ... (kItems of them) of the row
// (items: float4s when kVec, i.e. dim % 4 == 0 and 16-byte aligned rows, else floats).
// `out` may alias `x`: every load happens before block_sum's barrier, every store after.
// kAccumulate: out += x * scale * w (the residual add of a post-norm), else out = x * scale * w.
template <int kItems, bool kVec, bool kAccumulate>
__global__ void __launch_bounds__(kMaxRowThreads) rms_norm_rows_kernel(const float* x, const float* w, uint32_t dim,
                                                                       float eps, float* out) {
    using V = Vec<kVec>;
    __shared__ float red[32];
    const uint32_t n = kVec ? dim / 4 : dim;
    const uint64_t off = uint64_t(blockIdx.x) * dim;
    const V* xr = reinterpret_cast<const V*>(x + off);
    const V* wr = reinterpret_cast<const V*>(w);
    V* outr = reinterpret_cast<V*>(out + off);
    V xv[kItems], wv[kItems], ov[kItems];
#pragma unroll
    for (int k = 0; k < kItems; ++k) {
        const uint32_t i = threadIdx.x + uint32_t(k) * blockDim.x;
        if (i < n) wv[k] = wr[i];
    }
    pdl_wait();
    pdl_launch_dependents();
#pragma unroll
    for (int k = 0; k < kItems; ++k) {
        const uint32_t i = threadIdx.x + uint32_t(k) * blockDim.x;
        if (i < n) {
            xv[k] = xr[i];
            if (kAccumulate) ov[k] = outr[i];
        }
    }
    float ss = 0.0f;
#pragma unroll
    for (int k = 0; k < kItems; ++k) {
        if (threadIdx.x + uint32_t(k) * blockDim.x < n) ss += sum_sq(xv[k]);
    }
    ss = block_sum(ss, red);
    const float scale = 1.0f / sqrtf(ss / float(dim) + eps);
#pragma unroll
    for (int k = 0; k < kItems; ++k) {
        const uint32_t i = threadIdx.x + uint32_t(k) * blockDim.x;
        if (i < n) {
            const V r = norm_mul(xv[k], scale, wv[k]);
            outr[i] = kAccumulate ? add(ov[k], r) : r;
        }
    }
}

// Rows longer than kMaxItems * kMaxRowThreads items: two passes over memory.
template <bool kAccumulate>
__global__ void __launch_bounds__(kMaxRowThreads) rms_norm_long_rows_kernel(const float* x, const float* w,
                                                                            uint32_t dim, float eps, float* out) {
    __shared__ float red[32];
    const uint64_t off = uint64_t(blockIdx.x) * dim;
    const float* xr = x + off;
    float* outr = out + off;
    pdl_wait();
    pdl_launch_dependents();
    float ss = 0.0f;
    for (uint32_t i = threadIdx.x; i < dim; i += blockDim.x) ss += xr[i] * xr[i];
    ss = block_sum(ss, red);
    const float scale = 1.0f / sqrtf(ss / float(dim) + eps);
    for (uint32_t i = threadIdx.x; i < dim; i += blockDim.x) {
        const float r = xr[i] * scale * w[i];
        outr[i] = kAccumulate ? outr[i] + r : r;
    }
}

// residual += o, elementwise; rows on y (looping past 65535), items (float4s when kVec) on x.
template <bool kVec>
__global__ void add_rows_kernel(float* residual, const float* o, uint32_t n_rows, uint32_t dim) {
    using V = Vec<kVec>;
    pdl_wait();
    pdl_launch_dependents();
    const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (kVec ? dim / 4 : dim)) return;
    for (uint32_t r = blockIdx.y; r < n_rows; r += gridDim.y) {
        V* res = reinterpret_cast<V*>(residual + uint64_t(r) * dim);
        const V* src = reinterpret_cast<const V*>(o + uint64_t(r) * dim);
        res[i] = add(res[i], src[i]);
    }
}

// One warp per (row, head): heads are at most a few hundred floats, so a warp holds one in
// registers (kItems floats per lane, lane-strided: coalesced) and needs no shared memory.
// kItems == 0: heads longer than 256, two passes.
constexpr int kHeadWarps = 4;

template <int kItems>
__global__ void __launch_bounds__(kHeadWarps * 32) rms_norm_heads_kernel(float* x, const float* w, uint32_t n_rows,
                                                                         uint32_t row_stride, uint32_t n_heads,
                                                                         uint32_t head_dim, float eps) {
    const uint64_t item = uint64_t(blockIdx.x) * kHeadWarps + threadIdx.x / 32;  // row * n_heads + head
    if (item >= uint64_t(n_rows) * n_heads) return;  // whole warps leave together
    const uint32_t lane = threadIdx.x % 32;
    float* v = x + (item / n_heads) * row_stride + (item % n_heads) * head_dim;
    float ss = 0.0f;
    if constexpr (kItems == 0) {
        pdl_wait();
        pdl_launch_dependents();
        for (uint32_t i = lane; i < head_dim; i += 32) ss += v[i] * v[i];
        ss = warp_sum(ss);
        const float scale = 1.0f / sqrtf(ss / float(head_dim) + eps);
        for (uint32_t i = lane; i < head_dim; i += 32) v[i] = v[i] * scale * w[i];
    } else {
        float xv[kItems], wv[kItems];
#pragma unroll
        for (int k = 0; k < kItems; ++k) {
            const uint32_t i = lane + 32u * uint32_t(k);
            wv[k] = i < head_dim ? w[i] : 0.0f;
        }
        pdl_wait();
        pdl_launch_dependents();
#pragma unroll
        for (int k = 0; k < kItems; ++k) {
            const uint32_t i = lane + 32u * uint32_t(k);
            xv[k] = i < head_dim ? v[i] : 0.0f;
            ss += xv[k] * xv[k];
        }
        ss = warp_sum(ss);
        const float scale = 1.0f / sqrtf(ss / float(head_dim) + eps);
#pragma unroll
        for (int k = 0; k < kItems; ++k) {
            const uint32_t i = lane + 32u * uint32_t(k);
            if (i < head_dim) v[i] = xv[k] * scale * wv[k];
        }
    }
}

template <int kItems, bool kVec, bool kAccumulate>
void launch_items(const float* x, const float* w, uint32_t n_rows, uint32_t dim, float eps, float* out, uint32_t n,
                  cudaStream_t stream, const char* name) {
    const uint32_t threads = uint32_t(ops::ceil_div(ops::ceil_div(n, kItems), 32) * 32);
    launch_stream_kernel(rms_norm_rows_kernel<kItems, kVec, kAccumulate>, dim3(n_rows), dim3(threads), 0, stream,
                         name, x, w, dim, eps, out);
}

template <bool kVec, bool kAccumulate>
void launch_width(const float* x, const float* w, uint32_t n_rows, uint32_t dim, float eps, float* out,
                  cudaStream_t stream, const char* name) {
    const uint32_t n = kVec ? dim / 4 : dim;  // items per row
    if (n <= kMaxRowThreads) {
        launch_items<1, kVec, kAccumulate>(x, w, n_rows, dim, eps, out, n, stream, name);
    } else if (n <= 2 * kMaxRowThreads) {
        launch_items<2, kVec, kAccumulate>(x, w, n_rows, dim, eps, out, n, stream, name);
    } else if (n <= 4 * kMaxRowThreads) {
        launch_items<4, kVec, kAccumulate>(x, w, n_rows, dim, eps, out, n, stream, name);
    } else if (n <= kMaxItems * kMaxRowThreads) {
        launch_items<kMaxItems, kVec, kAccumulate>(x, w, n_rows, dim, eps, out, n, stream, name);
    } else {
        launch_stream_kernel(rms_norm_long_rows_kernel<kAccumulate>, dim3(n_rows), dim3(kMaxRowThreads), 0, stream,
                             name, x, w, dim, eps, out);
    }
}

template <bool kAccumulate>
void launch_rows(const float* x, const float* w, uint32_t n_rows, uint32_t dim, float eps, float* out,
                 cudaStream_t stream, const char* name) {
    const bool vec = dim % 4 == 0 && ops::aligned16(x) && ops::aligned16(w) && ops::aligned16(out);
    // One row per block: n_rows is a token count, far below the 2^31 grid limit.
    if (vec) {
        launch_width<true, kAccumulate>(x, w, n_rows, dim, eps, out, stream, name);
    } else {
        launch_width<false, kAccumulate>(x, w, n_rows, dim, eps, out, stream, name);
    }
}

}  // namespace

void rms_norm(const float* x, const float* w, uint32_t n_rows, uint32_t dim, float eps, float* out,
              cudaStream_t stream) {
    if (n_rows == 0 || dim == 0) return;
    launch_rows<false>(x, w, n_rows, dim, eps, out, stream, "rms_norm");
}

void add_residual(float* residual, const float* o, const float* w, uint32_t n_rows, uint32_t dim, float eps,
                  cudaStream_t stream) {
    if (n_rows == 0 || dim == 0) return;
    if (w != nullptr) {
        launch_rows<true>(o, w, n_rows, dim, eps, residual, stream, "add_residual (post-norm)");
        return;
    }
    // 128-thread blocks: a 4096-wide row is 8 blocks of one float4 per thread.
    const bool vec = dim % 4 == 0 && ops::aligned16(residual) && ops::aligned16(o);
    const dim3 grid(unsigned(ops::ceil_div(vec ? dim / 4 : dim, 128)), ops::grid_rows(n_rows));
    launch_stream_kernel(vec ? add_rows_kernel<true> : add_rows_kernel<false>, grid, dim3(128), 0, stream,
                         "add_residual", residual, o, n_rows, dim);
}

void rms_norm_heads(float* x, const float* w, uint32_t n_rows, uint32_t row_stride, uint32_t n_heads,
                    uint32_t head_dim, float eps, cudaStream_t stream) {
    if (n_rows == 0 || n_heads == 0 || head_dim == 0) return;
    if (uint64_t(n_heads) * head_dim > row_stride) {
        ops::invalid("rms_norm_heads: " + std::to_string(n_heads) + " heads of " + std::to_string(head_dim) +
                     " floats do not fit a row of " + std::to_string(row_stride));
    }
    const uint64_t blocks = ops::ceil_div(uint64_t(n_rows) * n_heads, kHeadWarps);
    auto* kernel = head_dim <= 64    ? rms_norm_heads_kernel<2>
                   : head_dim <= 128 ? rms_norm_heads_kernel<4>
                   : head_dim <= 256 ? rms_norm_heads_kernel<8>
                                     : rms_norm_heads_kernel<0>;
    launch_stream_kernel(kernel, dim3(unsigned(blocks)), dim3(kHeadWarps * 32), 0, stream, "rms_norm_heads", x, w,
                         n_rows, row_stride, n_heads, head_dim, eps);
}

}  // namespace llcuda::cuda
