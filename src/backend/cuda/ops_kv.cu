// RoPE fused with the KV-cache write: one block per batch token rotates its q heads in place,
// rotates its k heads into shared memory, and stores k and v (as f16, or Q8_0 blocks) into the
// cache slot of the token's position (layout: ops_kv.cuh).
//
// The angle is computed as cpu::rope computes it, operation by operation, so that both backends
// agree to float rounding:
//     theta_i = float(pos) * freq_scale * powf(base, -2i / rope_dim)  [/ freq_factors[i]]
// with the power rounded from double (glibc's powf is within an ulp of the exact value; the
// device's powf may be two ulps off, which at position 30000 turns into a visible angle error).
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels.h"
#include "backend/cuda/ops_common.cuh"
#include "backend/cuda/ops_kv.cuh"

namespace llcuda::cuda {

namespace {

constexpr int kThreads = 256;
// Shared memory per block: 2 * (rope_dim / 2) cos/sin floats + one token's keys, within the 48 KB
// every GPU grants without opting in (rope_dim <= head_dim <= 256).
constexpr uint32_t kMaxStagedFloats = 12 * 1024 - kv::kMaxHeadDim;

// Writes one token's row (n_head_kv x head_dim floats, head-major) into its slot.
template <KvType kType>
__device__ __forceinline__ void store_slot(const float* src, uint8_t* slot, uint32_t n_head_kv, uint32_t head_dim) {
    const uint32_t n = n_head_kv * head_dim;
    if (kType == KvType::F16) {
        __half2* dst = reinterpret_cast<__half2*>(slot);  // n is even: head_dim % 8 == 0
        for (uint32_t i = threadIdx.x; i < n / 2; i += blockDim.x) dst[i] = __floats2half2_rn(src[2 * i], src[2 * i + 1]);
    } else {
        // One warp per block of 32 (the loop bound is the same for every lane of a warp, so the
        // shuffles in warp_max always see the full warp).
        __half* scales = reinterpret_cast<__half*>(slot + kv::q8_quant_bytes(n_head_kv, head_dim));
        const uint32_t lane = threadIdx.x % 32;
        for (uint32_t b = threadIdx.x / 32; b < n / kv::kQ8Block; b += blockDim.x / 32) {
            const float x = src[b * kv::kQ8Block + lane];
            const float d = ops::warp_max(fabsf(x)) / 127.0f;
            const float id = d != 0.0f ? 1.0f / d : 0.0f;
            slot[b * kv::kQ8Block + lane] = uint8_t(int8_t(int(roundf(x * id))));
            if (lane == 0) scales[b] = __float2half_rn(d);
        }
    }
}

template <KvType kType>
__global__ void __launch_bounds__(kThreads)
    rope_store_kv_kernel(float* q, uint32_t q_stride, const float* k, uint32_t k_stride, const float* v,
                         uint32_t v_stride, uint32_t n_head, uint32_t n_head_kv, uint32_t dk, uint32_t dv,
                         RopeParams rope, DeviceBatch batch, uint8_t* k_pool, uint8_t* v_pool, uint64_t k_slot_bytes,
                         uint64_t v_slot_bytes) {
    extern __shared__ float smem[];
    const uint32_t half = rope.rope_dim / 2;
    float* cs = smem;              // (half, 2): cos, sin of each pair's angle
    float* kbuf = smem + 2 * half;  // (n_head_kv, dk): this token's rotated keys
    const uint32_t t = blockIdx.x;
    const int32_t pos = batch.token_pos[t];

    for (uint32_t i = threadIdx.x; i < half; i += blockDim.x) {
        const float expo = -2.0f * float(i) / float(rope.rope_dim);
        float theta = float(pos) * rope.freq_scale * float(pow(double(rope.base), double(expo)));
        if (rope.freq_factors) theta /= rope.freq_factors[i];
        float s, c;
        sincosf(theta, &s, &c);
        cs[2 * i] = c;
        cs[2 * i + 1] = s;
    }
    __syncthreads();

    // Pair i of a head: (2i, 2i+1) for Adjacent, (i, i + half) for Neox.
    const bool neox = rope.style == RopeStyle::Neox;
    float* qt = q + uint64_t(t) * q_stride;
    for (uint32_t item = threadIdx.x; item < n_head * half; item += blockDim.x) {
        const uint32_t i = item % half;
        float* h = qt + (item / half) * dk;
        const uint32_t a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
        const float x0 = h[a], x1 = h[b], c = cs[2 * i], s = cs[2 * i + 1];
        h[a] = x0 * c - x1 * s;
        h[b] = x0 * s + x1 * c;
    }

    // Keys: each thread produces one element of the rotated row (reading its pair partner too).
    const float* kt = k + uint64_t(t) * k_stride;
    for (uint32_t idx = threadIdx.x; idx < n_head_kv * dk; idx += blockDim.x) {
        const uint32_t d = idx % dk;
        const float* h = kt + (idx - d);
        if (d >= rope.rope_dim) {
            kbuf[idx] = h[d];
            continue;
        }
        const uint32_t i = neox ? d % half : d / 2;
        const bool second = neox ? d >= half : (d & 1u) != 0;
        const uint32_t a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
        const float x0 = h[a], x1 = h[b], c = cs[2 * i], s = cs[2 * i + 1];
        kbuf[idx] = second ? x0 * s + x1 * c : x0 * c - x1 * s;
    }
    __syncthreads();

    const uint64_t slot = kv::slot_of(batch.page_tables, batch.table_stride, batch.block_size, batch.token_seq[t],
                                      uint32_t(pos));
    store_slot<kType>(kbuf, k_pool + slot * k_slot_bytes, n_head_kv, dk);
    store_slot<kType>(v + uint64_t(t) * v_stride, v_pool + slot * v_slot_bytes, n_head_kv, dv);
}

}  // namespace

uint64_t kv_slot_bytes(KvType type, uint32_t n_head_kv, uint32_t head_dim) {
    return kv::slot_bytes(type, n_head_kv, head_dim);
}

void rope_store_kv(float* q, uint32_t q_stride, const float* k, uint32_t k_stride, const float* v, uint32_t v_stride,
                   uint32_t n_head, uint32_t n_head_kv, uint32_t head_dim_k, uint32_t head_dim_v,
                   const RopeParams& rope, const DeviceBatch& batch, KvLayer kv, KvType kv_type,
                   cudaStream_t stream) {
    if (batch.n_tokens == 0) return;
    kv::check_shape("rope_store_kv", kv_type, n_head, n_head_kv, head_dim_k, head_dim_v, batch, kv);
    if (rope.rope_dim % 2 != 0 || rope.rope_dim > head_dim_k) {
        ops::invalid("rope_store_kv: rope_dim " + std::to_string(rope.rope_dim) + " must be even and at most head_dim " +
                     std::to_string(head_dim_k));
    }
    if (q_stride < uint64_t(n_head) * head_dim_k || k_stride < uint64_t(n_head_kv) * head_dim_k ||
        v_stride < uint64_t(n_head_kv) * head_dim_v) {
        ops::invalid("rope_store_kv: a row stride is smaller than its heads");
    }
    const uint64_t staged = uint64_t(n_head_kv) * head_dim_k;
    if (staged > kMaxStagedFloats) {
        ops::unsupported("rope_store_kv: " + std::to_string(n_head_kv) + " KV heads of " + std::to_string(head_dim_k) +
                         " exceed the " + std::to_string(kMaxStagedFloats) + " key floats staged per token");
    }
    const size_t smem = (rope.rope_dim + staged) * sizeof(float);  // cos/sin pairs + staged keys
    auto* kp = static_cast<uint8_t*>(kv.k);
    auto* vp = static_cast<uint8_t*>(kv.v);
    const uint64_t kb = kv::slot_bytes(kv_type, n_head_kv, head_dim_k), vb = kv::slot_bytes(kv_type, n_head_kv, head_dim_v);
    if (kv_type == KvType::F16) {
        rope_store_kv_kernel<KvType::F16><<<batch.n_tokens, kThreads, smem, stream>>>(
            q, q_stride, k, k_stride, v, v_stride, n_head, n_head_kv, head_dim_k, head_dim_v, rope, batch, kp, vp, kb, vb);
    } else {
        rope_store_kv_kernel<KvType::Q8_0><<<batch.n_tokens, kThreads, smem, stream>>>(
            q, q_stride, k, k_stride, v, v_stride, n_head, n_head_kv, head_dim_k, head_dim_v, rope, batch, kp, vp, kb, vb);
    }
    check_launch("rope_store_kv");
}

}  // namespace llcuda::cuda
