// The activations of gemm_tile4 (gemm_tile4.cu): act_to_f16 scales each token's row of x
// (optionally RMS-normalized, x * w / rms) by a power of two so that its largest |x| lies in
// [512, 1024), writes it as f16 (columns padded with zeros to the matrix's 256-column units), with
// the inverse scale per token and, for Q4_K, the f32 sum of every 32 scaled columns as two f16
// parts, high = f16(sum) and low = f16(sum - high) (|sum| < 2^15: fits). Scaling per token (not
// per call) keeps small tokens as precise as large ones.
//
// One CTA per token, two kernels with the same results (bit for bit without a fused norm; with
// one, the sum of squares is added in another order):
//  * act_to_f16_wide_kernel<V>, rows of up to V x 4096 columns (V <= 5: 20480): 512 threads, each
//    holding V groups of 8 consecutive columns in registers, all its loads issued at once; the row
//    is read once. It runs between two products of a decode step, on as many CTAs as there are
//    tokens (16 on a 132-SM GPU), so a CTA's latency is the kernel's time: the two-pass kernel
//    below waits for a load 56 times per thread in the first pass alone at 14336 columns.
//  * act_to_f16_kernel: 256 threads, one pass for the largest |x| and the sum of squares, another
//    to scale and write: rows of any length. LLCUDA_ACT_PREP_WIDE=0 takes it for every row (A/B).
#include <cuda_fp16.h>

#include <cstdint>
#include <cstdlib>

#include "backend/cuda/gemm_tile4.h"
#include "backend/cuda/matvec_stream.cuh"
#include "backend/cuda/tile4_fragments.cuh"

namespace llcuda::cuda {
namespace {

constexpr int kTwoPassThreads = 256;
// 512: 14336 columns = 1792 groups of 8, 3.5 a thread, in 32 registers (64 with the norm's
// weights) of the 128 a 512-thread CTA allows; at 1024 threads (64 registers) an 18432-column row
// with a norm (3 groups: 48 registers of data) would not fit beside the addresses.
constexpr int kWideThreads = 512;
constexpr uint32_t kWideColumnsPerV = kWideThreads * 8;
constexpr int kWideMaxV = 5;  // 20480 columns: Llama-3 14336, Qwen2.5-7B 18944

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

// A token's multiplier s (x' * s is written: the power of two times the norm's 1/rms) and 1 / the
// power of two (invs), from its row's largest |x * w| (m, before 1/rms) and sum of x^2 (ss).
struct TokenScale {
    float s, inv;
};
__device__ __forceinline__ TokenScale token_scale(float m, float ss, uint32_t n_cols, bool norm, float eps) {
    const float rms = norm ? 1.0f / sqrtf(ss / float(n_cols) + eps) : 1.0f;
    m *= rms;
    const int e = act_scale_exponent(m, rms);
    return {__uint_as_float(uint32_t(263 - e) << 23) * rms, __uint_as_float(uint32_t(e - 9) << 23)};
}

// Every thread of the block gets the block's max of m and sum of ss: per warp by butterfly, then
// warp 0's, 1's, ... partial sums in order (red: [0] maxima, [1] sums, one slot a warp).
__device__ __forceinline__ void block_max_and_sum(float& m, float& ss, float (&red)[2][32]) {
    for (int o = 16; o > 0; o >>= 1) {
        m = fmaxf(m, __shfl_xor_sync(0xFFFFFFFFu, m, o));
        ss += __shfl_xor_sync(0xFFFFFFFFu, ss, o);
    }
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, n_warps = blockDim.x >> 5;
    if (lane == 0) red[0][warp] = m, red[1][warp] = ss;
    __syncthreads();
    m = 0.0f, ss = 0.0f;
    for (int w = 0; w < n_warps; ++w) m = fmaxf(m, red[0][w]), ss += red[1][w];
}

// Writes the scaled columns k0..k0+7 of token tok as f16 and, with sums, the 32-column sum they
// belong to: 4 lanes with consecutive k0 (threadIdx.x % 4 = 0..3) hold one sub-block, so all 32
// lanes of a warp call this together; lane 0 of the four writes.
__device__ __forceinline__ void store_group8(const float (&v)[8], uint32_t tok, uint32_t k0, uint32_t ldk, bool sums,
                                             __half* __restrict__ x16, __half* __restrict__ xsum) {
    __half2 h[4];
    float sum = 0.0f;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        h[i] = __floats2half2_rn(v[2 * i], v[2 * i + 1]);
        sum += v[2 * i] + v[2 * i + 1];
    }
    *reinterpret_cast<uint4*>(x16 + uint64_t(tok) * ldk + k0) = make_uint4(h2u(h[0]), h2u(h[1]), h2u(h[2]), h2u(h[3]));
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

// One block of kTwoPassThreads per token: see the file comment.
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
    block_max_and_sum(m, ss, red);
    const TokenScale ts = token_scale(m, ss, n_cols, nw != nullptr, eps);
    if (threadIdx.x == 0) invs[tok] = ts.inv;
    // 32 consecutive columns per lane group of 4 lanes x 8 columns: each warp writes 256 columns
    for (uint32_t k0 = threadIdx.x * 8; k0 < ldk; k0 += blockDim.x * 8) {
        float v[8];
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            const uint32_t k = k0 + i;
            v[i] = k < n_cols ? row[k] * (nw ? nw[k] : 1.0f) * ts.s : 0.0f;
        }
        store_group8(v, tok, k0, ldk, sums, x16, xsum);
    }
}

// Columns k0..k0+7 of p (zeros from n_cols on): two 16-byte loads where p + k0 is aligned (vec) and
// the group lies inside the row, else one guarded load a column (a row's last, partial group).
__device__ __forceinline__ void load_group8(const float* __restrict__ p, uint32_t k0, uint32_t n_cols, bool vec,
                                            float (&v)[8]) {
    if (vec && k0 + 8 <= n_cols) {
        const float4 a = *reinterpret_cast<const float4*>(p + k0);
        const float4 b = *reinterpret_cast<const float4*>(p + k0 + 4);
        v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w, v[4] = b.x, v[5] = b.y, v[6] = b.z, v[7] = b.w;
    } else {
#pragma unroll
        for (int i = 0; i < 8; ++i) v[i] = k0 + i < n_cols ? p[k0 + i] : 0.0f;
    }
}

// One block of kWideThreads per token, ldk <= V * kWideColumnsPerV: see the file comment. Thread t
// holds the columns of groups j * kWideThreads + t (j < V) of 8 columns, so a warp's loads and
// stores of one j are 1 KB and 512 bytes contiguous. vec: x rows and nw 16-byte aligned.
template <int V>
__global__ void __launch_bounds__(kWideThreads) act_to_f16_wide_kernel(const float* __restrict__ x, uint32_t n_cols,
                                                                       const float* __restrict__ nw, float eps,
                                                                       uint32_t ldk, bool sums, bool vec,
                                                                       __half* __restrict__ x16,
                                                                       __half* __restrict__ xsum,
                                                                       float* __restrict__ invs) {
    __shared__ float red[2][32];
    const uint32_t tok = blockIdx.x;
    auto first_column = [](int j) { return (uint32_t(j) * kWideThreads + threadIdx.x) * 8; };
    // The norm's weights are model weights, written by no kernel: requested before the wait.
    float w[V][8];
    if (nw) {
#pragma unroll
        for (int j = 0; j < V; ++j) load_group8(nw, first_column(j), n_cols, vec, w[j]);
    }
    pdl_wait();  // x comes from the kernel before; x16, xsum and invs may still be read by the last product
    pdl_launch_dependents();
    const float* row = x + uint64_t(tok) * n_cols;
    float v[V][8];  // x, then x * w under a norm
#pragma unroll
    for (int j = 0; j < V; ++j) load_group8(row, first_column(j), n_cols, vec, v[j]);

    float m = 0.0f, ss = 0.0f;
#pragma unroll
    for (int j = 0; j < V; ++j) {
#pragma unroll
        for (int i = 0; i < 8; ++i) {
            ss = fmaf(v[j][i], v[j][i], ss);
            if (nw) v[j][i] *= w[j][i];
            m = fmaxf(m, fabsf(v[j][i]));
        }
    }
    block_max_and_sum(m, ss, red);
    const TokenScale ts = token_scale(m, ss, n_cols, nw != nullptr, eps);
    if (threadIdx.x == 0) invs[tok] = ts.inv;
#pragma unroll
    for (int j = 0; j < V; ++j) {
        const uint32_t k0 = first_column(j);
        if (k0 >= ldk) break;  // ldk: a multiple of 256, so whole warps leave together
        float out[8];
#pragma unroll
        for (int i = 0; i < 8; ++i) out[i] = k0 + i < n_cols ? v[j][i] * ts.s : 0.0f;
        store_group8(out, tok, k0, ldk, sums, x16, xsum);
    }
}

// LLCUDA_ACT_PREP_WIDE=0 keeps the two-pass kernel for every row, for A/B runs.
bool wide_enabled() {
    static const bool on = [] {
        const char* v = std::getenv("LLCUDA_ACT_PREP_WIDE");
        return !(v && *v && std::atoi(v) == 0);
    }();
    return on;
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

}  // namespace

void act_to_f16(const float* x, uint32_t n_tokens, uint32_t n_cols, const float* norm_weight, float eps, uint32_t ldk,
                bool sums, __half* x16, __half* xsum, float* invs, cudaStream_t stream) {
    const uint32_t v = (ldk + kWideColumnsPerV - 1) / kWideColumnsPerV;
    if (wide_enabled() && v <= uint32_t(kWideMaxV)) {
        const bool vec = n_cols % 4 == 0 && aligned16(x) && aligned16(norm_weight);
        auto launch = [&](auto kernel) {
            launch_kernel_pdl(gemm_pdl(), kernel, dim3(n_tokens), dim3(kWideThreads), 0, stream,
                              "act_to_f16_wide_kernel", x, n_cols, norm_weight, eps, ldk, sums, vec, x16, xsum, invs);
        };
        static_assert(kWideMaxV == 5, "one instance per V");
        switch (v) {
            case 1: return launch(act_to_f16_wide_kernel<1>);
            case 2: return launch(act_to_f16_wide_kernel<2>);
            case 3: return launch(act_to_f16_wide_kernel<3>);
            case 4: return launch(act_to_f16_wide_kernel<4>);
            default: return launch(act_to_f16_wide_kernel<5>);
        }
    }
    launch_kernel_pdl(gemm_pdl(), act_to_f16_kernel, dim3(n_tokens), dim3(kTwoPassThreads), 0, stream,
                      "act_to_f16_kernel", x, n_cols, norm_weight, eps, ldk, sums, x16, xsum, invs);
}

}  // namespace llcuda::cuda
