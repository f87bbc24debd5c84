// RMSNorm in its three uses: whole rows (pre-norms, output norm), whole rows added into the residual
// stream (Gemma's post-norms), and each head of q/k on its own (Qwen3/Gemma-3 QK-norm).
// Arithmetic follows cpu::rms_norm: scale = 1 / sqrt(mean(x^2) + eps), out = x * scale * w.
#include <cuda_runtime.h>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels.h"
#include "backend/cuda/ops_common.cuh"

namespace llcuda::cuda {

namespace {

using ops::block_sum;
using ops::warp_sum;

constexpr int kRowThreads = 256;

// Sum of squares of one row, float4 loads when kVec (dim % 4 == 0, row 16-byte aligned).
template <bool kVec>
__device__ __forceinline__ float row_sum_sq(const float* x, uint32_t dim) {
    float ss = 0.0f;
    if (kVec) {
        const float4* x4 = reinterpret_cast<const float4*>(x);
        for (uint32_t i = threadIdx.x; i < dim / 4; i += blockDim.x) {
            const float4 a = x4[i];
            ss += a.x * a.x + a.y * a.y + a.z * a.z + a.w * a.w;
        }
    } else {
        for (uint32_t i = threadIdx.x; i < dim; i += blockDim.x) ss += x[i] * x[i];
    }
    return ss;
}

// One block per row. `out` may alias `x`: every read of the first pass finishes (block_sum's
// barrier) before the second pass writes, and each thread rewrites only what it reads.
// kAccumulate: out += x * scale * w (the residual add of a post-norm), else out = x * scale * w.
template <bool kVec, bool kAccumulate>
__global__ void __launch_bounds__(kRowThreads) rms_norm_rows_kernel(const float* x, const float* w, uint32_t dim,
                                                                    float eps, float* out) {
    __shared__ float red[32];
    const uint64_t off = uint64_t(blockIdx.x) * dim;
    const float* xr = x + off;
    float* outr = out + off;
    const float ss = block_sum(row_sum_sq<kVec>(xr, dim), red);
    const float scale = 1.0f / sqrtf(ss / float(dim) + eps);
    if (kVec) {
        const float4* x4 = reinterpret_cast<const float4*>(xr);
        const float4* w4 = reinterpret_cast<const float4*>(w);
        float4* o4 = reinterpret_cast<float4*>(outr);
        for (uint32_t i = threadIdx.x; i < dim / 4; i += blockDim.x) {
            const float4 a = x4[i], b = w4[i];
            float4 r = make_float4(a.x * scale * b.x, a.y * scale * b.y, a.z * scale * b.z, a.w * scale * b.w);
            if (kAccumulate) {
                const float4 o = o4[i];
                r = make_float4(o.x + r.x, o.y + r.y, o.z + r.z, o.w + r.w);
            }
            o4[i] = r;
        }
    } else {
        for (uint32_t i = threadIdx.x; i < dim; i += blockDim.x) {
            const float r = xr[i] * scale * w[i];
            outr[i] = kAccumulate ? outr[i] + r : r;
        }
    }
}

// residual += o, elementwise; rows on y (looping past 65535), columns on x.
__global__ void add_rows_kernel(float* residual, const float* o, uint32_t n_rows, uint32_t dim) {
    const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= dim) return;
    for (uint32_t r = blockIdx.y; r < n_rows; r += gridDim.y) {
        const uint64_t k = uint64_t(r) * dim + i;
        residual[k] += o[k];
    }
}

// One warp per (row, head): heads are at most a few hundred floats, so a warp covers one with a
// handful of loads per lane and needs no shared memory.
constexpr int kHeadWarps = 4;

__global__ void __launch_bounds__(kHeadWarps * 32) rms_norm_heads_kernel(float* x, const float* w, uint32_t n_rows,
                                                                         uint32_t row_stride, uint32_t n_heads,
                                                                         uint32_t head_dim, float eps) {
    const uint64_t item = uint64_t(blockIdx.x) * kHeadWarps + threadIdx.x / 32;  // row * n_heads + head
    if (item >= uint64_t(n_rows) * n_heads) return;  // whole warps leave together
    const uint32_t lane = threadIdx.x % 32;
    float* v = x + (item / n_heads) * row_stride + (item % n_heads) * head_dim;
    float ss = 0.0f;
    for (uint32_t i = lane; i < head_dim; i += 32) ss += v[i] * v[i];
    ss = warp_sum(ss);
    const float scale = 1.0f / sqrtf(ss / float(head_dim) + eps);
    for (uint32_t i = lane; i < head_dim; i += 32) v[i] = v[i] * scale * w[i];
}

template <bool kAccumulate>
void launch_rows(const float* x, const float* w, uint32_t n_rows, uint32_t dim, float eps, float* out,
                 cudaStream_t stream, const char* name) {
    const bool vec = dim % 4 == 0 && ops::aligned16(x) && ops::aligned16(w) && ops::aligned16(out);
    // One row per block: n_rows is a token count, far below the 2^31 grid limit.
    if (vec) {
        rms_norm_rows_kernel<true, kAccumulate><<<n_rows, kRowThreads, 0, stream>>>(x, w, dim, eps, out);
    } else {
        rms_norm_rows_kernel<false, kAccumulate><<<n_rows, kRowThreads, 0, stream>>>(x, w, dim, eps, out);
    }
    check_launch(name);
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
    const dim3 grid(unsigned(ops::ceil_div(dim, 256)), ops::grid_rows(n_rows));
    add_rows_kernel<<<grid, 256, 0, stream>>>(residual, o, n_rows, dim);
    check_launch("add_residual");
}

void rms_norm_heads(float* x, const float* w, uint32_t n_rows, uint32_t row_stride, uint32_t n_heads,
                    uint32_t head_dim, float eps, cudaStream_t stream) {
    if (n_rows == 0 || n_heads == 0 || head_dim == 0) return;
    if (uint64_t(n_heads) * head_dim > row_stride) {
        ops::invalid("rms_norm_heads: " + std::to_string(n_heads) + " heads of " + std::to_string(head_dim) +
                     " floats do not fit a row of " + std::to_string(row_stride));
    }
    const uint64_t blocks = ops::ceil_div(uint64_t(n_rows) * n_heads, kHeadWarps);
    rms_norm_heads_kernel<<<unsigned(blocks), kHeadWarps * 32, 0, stream>>>(x, w, n_rows, row_stride, n_heads,
                                                                            head_dim, eps);
    check_launch("rms_norm_heads");
}

}  // namespace llcuda::cuda
