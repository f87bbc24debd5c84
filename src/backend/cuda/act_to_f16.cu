// The activations of gemm_tile4 (gemm_tile4.cu): act_to_f16 scales each token's row of x
// (optionally RMS-normalized, x * w / rms) by a power of two so that its largest |x| lies in
// [512, 1024), writes it as f16 (columns padded with zeros to the matrix's 256-column units), with
// the inverse scale per token and, for Q4_K, the f32 sum of every 32 scaled columns as two f16
// parts, high = f16(sum) and low = f16(sum - high) (|sum| < 2^15: fits). Scaling per token (not
// per call) keeps small tokens as precise as large ones.
#include <cuda_fp16.h>

#include <cstdint>

#include "backend/cuda/gemm_tile4.h"
#include "backend/cuda/matvec_stream.cuh"
#include "backend/cuda/tile4_fragments.cuh"

namespace llcuda::cuda {
namespace {

// The exponent field e of the power of two 2^(e - 136) that act_to_f16 divides a token's row by:
// e = m's exponent field puts the row's largest |x * w * rms| = m in [512, 1024). Clamped so that
// 2^(136 - e) and its inverse are normal floats, and so that the scale 2^(136 - e) * rms stays
// finite: a row of zeros under a norm has m = 0 and rms = 1/sqrt(eps) (316 at eps 1e-5), and
// 2^126 * 316 overflowed to inf, making 0 * inf = NaN of every output of that token. rms < 2^(r -
// 126) for its exponent field r, so e >= r - 116 keeps the scale below 2^126.
__device__ __forceinline__ int act_scale_exponent(float m, float rms) {
    const int m_exp = int((__float_as_uint(m) >> 23) & 0xFF);
    const int rms_exp = int((__float_as_uint(rms) >> 23) & 0xFF);
    return min(254, max(max(10, rms_exp - 116), m_exp));
}

// One block per token: see the file comment.
__global__ void act_to_f16_kernel(const float* __restrict__ x, uint32_t n_cols, const float* __restrict__ nw,
                                  float eps, uint32_t ldk, bool sums, __half* __restrict__ x16,
                                  __half* __restrict__ xsum, float* __restrict__ invs) {
    __shared__ float red[2][32];
    pdl_wait();  // x comes from the kernel before; x16, xsum and invs may still be read by the last product
    pdl_launch_dependents();
    const uint32_t tok = blockIdx.x;
    const float* row = x + uint64_t(tok) * n_cols;
    float m = 0.0f, ss = 0.0f;
    for (uint32_t k = threadIdx.x; k < n_cols; k += blockDim.x) {
        const float v = row[k];
        ss = fmaf(v, v, ss);
        m = fmaxf(m, fabsf(nw ? v * nw[k] : v));
    }
    for (int o = 16; o > 0; o >>= 1) {
        m = fmaxf(m, __shfl_xor_sync(0xFFFFFFFFu, m, o));
        ss += __shfl_xor_sync(0xFFFFFFFFu, ss, o);
    }
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, n_warps = blockDim.x >> 5;
    if (lane == 0) red[0][warp] = m, red[1][warp] = ss;
    __syncthreads();
    m = 0.0f, ss = 0.0f;
    for (int w = 0; w < n_warps; ++w) m = fmaxf(m, red[0][w]), ss += red[1][w];
    const float rms = nw ? 1.0f / sqrtf(ss / float(n_cols) + eps) : 1.0f;
    m *= rms;
    const int e = act_scale_exponent(m, rms);
    const float s = __uint_as_float(uint32_t(263 - e) << 23) * rms;
    if (threadIdx.x == 0) invs[tok] = __uint_as_float(uint32_t(e - 9) << 23);
    // 32 consecutive columns per lane group of 4 lanes x 8 columns: each warp writes 256 columns
    for (uint32_t k0 = threadIdx.x * 8; k0 < ldk; k0 += blockDim.x * 8) {
        float v[8];
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            const uint32_t k = k0 + i;
            v[i] = k < n_cols ? row[k] * (nw ? nw[k] : 1.0f) * s : 0.0f;
        }
        __half2 h[4];
        float sum = 0.0f;
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            h[i] = __floats2half2_rn(v[2 * i], v[2 * i + 1]);
            sum += v[2 * i] + v[2 * i + 1];
        }
        *reinterpret_cast<uint4*>(x16 + uint64_t(tok) * ldk + k0) =
            make_uint4(h2u(h[0]), h2u(h[1]), h2u(h[2]), h2u(h[3]));
        if (sums) {
            sum += __shfl_xor_sync(0xFFFFFFFFu, sum, 1);
            sum += __shfl_xor_sync(0xFFFFFFFFu, sum, 2);
            if ((threadIdx.x & 3) == 0) {  // sub-block sb = k0 / 32 of unit sb / 8: high part, low part 8 later
                const uint32_t sb = k0 / 32;
                const __half hi = __float2half_rn(sum);
                __half* dst = xsum + uint64_t(tok) * (ldk / 16) + (sb / 8) * 16 + sb % 8;
                dst[0] = hi;
                dst[8] = __float2half_rn(sum - __half2float(hi));
            }
        }
    }
}

}  // namespace

void act_to_f16(const float* x, uint32_t n_tokens, uint32_t n_cols, const float* norm_weight, float eps, uint32_t ldk,
                bool sums, __half* x16, __half* xsum, float* invs, cudaStream_t stream) {
    launch_kernel_pdl(gemm_pdl(), act_to_f16_kernel, dim3(n_tokens), dim3(256), 0, stream, "act_to_f16_kernel", x,
                      n_cols, norm_weight, eps, ldk, sums, x16, xsum, invs);
}

}  // namespace llcuda::cuda
