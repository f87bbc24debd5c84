// RoPE fused with the KV-cache write (layout: ops_kv.cuh). One warp per head row of a token: the q
// heads are rotated in place, the k heads rotated and stored, the v heads stored (f16, or Q8_0
// blocks). Blocks of 4 warps take 4 consecutive rows of one token (grid x: the token's rows, grid
// y: tokens), so a decode token's 48 rows (Llama-3-8B) are 12 blocks on 12 SMs. Launched with
// programmatic dependent launch (matvec_stream.cuh): the token's position, its cache slot and the
// angle table are worked out while the q/k/v product before it finishes (pdl_wait() comes after
// them), and a row then costs one load round trip: every lane issues all its loads at once.
//
// The angle is computed as cpu::rope computes it, operation by operation, so that both backends
// agree to float rounding:
//     theta_i = float(pos) * freq_scale * powf(base, -2i / rope_dim)  [/ freq_factors[i]]
// with the power taken in double (as exp2(e * log2(base)), log2(base) from the host) and rounded
// to float: within 1e-15 of the exact value, so it lands on glibc's powf result (itself within an
// ulp of exact) in all but rare cases; the device's powf may be two ulps off, which at position
// 30,000 turns into a visible angle error. Precise sincosf for the same reason. A block computes
// its token's table (one thread per pair) and its warps share it through shared memory.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels.h"
#include "backend/cuda/matvec_stream.cuh"
#include "backend/cuda/ops_common.cuh"
#include "backend/cuda/ops_kv.cuh"

namespace llcuda::cuda {

namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kMaxHalf = kv::kMaxHeadDim / 2;  // rotated pairs per head at most (128)
constexpr int kPairsPerLane = kMaxHalf / 32;    // 4
static_assert(kThreads >= kMaxHalf, "one thread per pair computes the angle table");
constexpr uint32_t kMaxTokenBlocks = 128;  // grid y

struct RopeArgs {
    float* q;
    const float* k;
    const float* v;
    uint32_t q_stride, k_stride, v_stride;
    uint32_t n_head, n_head_kv, dk, dv;
    uint32_t rope_dim;
    bool neox;
    double log2_base;
    float freq_scale;
    const float* freq_factors;
    const int32_t* token_pos;
    const int32_t* token_seq;
    const int32_t* page_tables;
    uint32_t table_stride, block_size, n_tokens;
    uint8_t* k_pool;
    uint8_t* v_pool;
    uint32_t k_slot_bytes, v_slot_bytes;
};

// One row of a slot (head `kvh`, `d` elements) from pairs held lane-strided: lane l holds elements
// (2m, 2m+1) for m = l + 32j, j < kPairsPerLane, 2m < d.
template <KvType kType>
__device__ __forceinline__ void store_row(uint8_t* slot, uint32_t n_head_kv, uint32_t kvh, uint32_t d,
                                          const float (&x0)[kPairsPerLane], const float (&x1)[kPairsPerLane]) {
    const uint32_t lane = threadIdx.x % 32;
    if constexpr (kType == KvType::F16) {
        __half2* dst = reinterpret_cast<__half2*>(slot) + kvh * d / 2;
#pragma unroll
        for (int j = 0; j < kPairsPerLane; ++j) {
            const uint32_t m = lane + 32u * uint32_t(j);
            if (2 * m < d) dst[m] = __floats2half2_rn(x0[j], x1[j]);
        }
    } else {
        // A block of 32 values is 16 pairs: lanes 0-15 hold block 2j of the row, lanes 16-31
        // block 2j + 1; d % 32 == 0, so a half-warp is wholly inside the row or wholly past it
        // (its values then zeros; every lane takes part in the shuffles).
        uint8_t* quants = slot + kvh * d;
        __half* scales = reinterpret_cast<__half*>(slot + kv::q8_quant_bytes(n_head_kv, d)) + kvh * d / kv::kQ8Block;
#pragma unroll
        for (int j = 0; j < kPairsPerLane; ++j) {
            if (64u * uint32_t(j) >= d) break;  // uniform over the warp
            const uint32_t m = lane + 32u * uint32_t(j);
            const bool in = 2 * m < d;
            float amax = in ? fmaxf(fabsf(x0[j]), fabsf(x1[j])) : 0.0f;
#pragma unroll
            for (int o = 8; o > 0; o >>= 1) amax = fmaxf(amax, __shfl_xor_sync(ops::kFullMask, amax, o));
            const float scale = amax / 127.0f;
            const float inv = scale != 0.0f ? 1.0f / scale : 0.0f;
            if (in) {
                const uint32_t lo = uint8_t(int8_t(int(roundf(x0[j] * inv))));
                const uint32_t hi = uint8_t(int8_t(int(roundf(x1[j] * inv))));
                *reinterpret_cast<uint16_t*>(quants + 2 * m) = uint16_t(lo | (hi << 8));
                if (lane % 16 == 0) scales[m / 16] = __float2half_rn(scale);
            }
        }
    }
}

template <KvType kType>
__global__ void __launch_bounds__(kThreads) rope_store_kv_kernel(const RopeArgs a) {
    __shared__ float cs[kMaxHalf][2];              // cos, sin of each pair's angle
    __shared__ float krow[kWarps][kv::kMaxHeadDim];  // a warp's rotated key row
    const uint32_t warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const uint32_t half = a.rope_dim / 2;
    const uint32_t item = blockIdx.x * kWarps + warp;  // q heads, then k heads, then v heads
    const bool is_q = item < a.n_head, is_k = !is_q && item < a.n_head + a.n_head_kv;
    const bool is_v = !is_q && !is_k && item < a.n_head + 2 * a.n_head_kv;
    const uint32_t kvh = is_k ? item - a.n_head : item - a.n_head - a.n_head_kv;
    // base^(-2i / rope_dim) of this thread's pair, computed once for all the block's tokens.
    float inv_freq = 0.0f;
    if (threadIdx.x < half) {
        const float expo = -2.0f * float(threadIdx.x) / float(a.rope_dim);
        inv_freq = float(exp2(double(expo) * a.log2_base));
    }

    for (uint32_t t = blockIdx.y; t < a.n_tokens; t += gridDim.y) {
        // Before pdl_wait: only what the host or earlier steps wrote (positions, page tables).
        const int32_t pos = a.token_pos[t];
        uint64_t slot = 0;
        if (is_k || is_v) {
            slot = kv::slot_of(a.page_tables, a.table_stride, a.block_size, a.token_seq[t], uint32_t(pos));
        }
        if (threadIdx.x < half) {
            const uint32_t i = threadIdx.x;
            float theta = float(pos) * a.freq_scale * inv_freq;
            if (a.freq_factors) theta /= a.freq_factors[i];
            float s, c;
            sincosf(theta, &s, &c);
            cs[i][0] = c;
            cs[i][1] = s;
        }
        pdl_wait();  // q, k, v are the previous kernel's output
        pdl_launch_dependents();

        // Pair i of a head: (2i, 2i+1) for Adjacent, (i, i + half) for Neox.
        float* h = is_q ? a.q + uint64_t(t) * a.q_stride + uint64_t(item) * a.dk : nullptr;
        const float* src = is_k ? a.k + uint64_t(t) * a.k_stride + uint64_t(kvh) * a.dk
                                : is_v ? a.v + uint64_t(t) * a.v_stride + uint64_t(kvh) * a.dv : h;
        float x0[kPairsPerLane], x1[kPairsPerLane];
#pragma unroll
        for (int j = 0; j < kPairsPerLane; ++j) {
            const uint32_t i = lane + 32u * uint32_t(j);
            x0[j] = x1[j] = 0.0f;
            if (is_q || is_k) {
                if (i < half) {
                    x0[j] = src[a.neox ? i : 2 * i];
                    x1[j] = src[a.neox ? i + half : 2 * i + 1];
                }
            } else if (is_v && 2 * i < a.dv) {  // v: the storage pairs
                x0[j] = src[2 * i];
                x1[j] = src[2 * i + 1];
            }
        }
        __syncthreads();  // the angle table

        if (is_q || is_k) {
            float* dst = is_q ? h : krow[warp];
#pragma unroll
            for (int j = 0; j < kPairsPerLane; ++j) {
                const uint32_t i = lane + 32u * uint32_t(j);
                if (i < half) {
                    const float c = cs[i][0], s = cs[i][1];
                    dst[a.neox ? i : 2 * i] = x0[j] * c - x1[j] * s;
                    dst[a.neox ? i + half : 2 * i + 1] = x0[j] * s + x1[j] * c;
                }
            }
        }
        if (is_k) {
            // Columns past rope_dim are stored as they are (partial rotary), then the row is read
            // back in storage pairs.
            for (uint32_t d = a.rope_dim + lane; d < a.dk; d += 32) krow[warp][d] = src[d];
            __syncwarp();
#pragma unroll
            for (int j = 0; j < kPairsPerLane; ++j) {
                const uint32_t m = lane + 32u * uint32_t(j);
                x0[j] = 2 * m < a.dk ? krow[warp][2 * m] : 0.0f;
                x1[j] = 2 * m < a.dk ? krow[warp][2 * m + 1] : 0.0f;
            }
            store_row<kType>(a.k_pool + slot * a.k_slot_bytes, a.n_head_kv, kvh, a.dk, x0, x1);
        } else if (is_v) {
            store_row<kType>(a.v_pool + slot * a.v_slot_bytes, a.n_head_kv, kvh, a.dv, x0, x1);
        }
        if (t + gridDim.y < a.n_tokens) __syncthreads();  // cs and krow are rewritten next
    }
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
    if (!(rope.base > 0.0f)) ops::invalid("rope_store_kv: the rope base must be positive, got " + std::to_string(rope.base));
    if (q_stride < uint64_t(n_head) * head_dim_k || k_stride < uint64_t(n_head_kv) * head_dim_k ||
        v_stride < uint64_t(n_head_kv) * head_dim_v) {
        ops::invalid("rope_store_kv: a row stride is smaller than its heads");
    }
    RopeArgs a{};
    a.q = q;
    a.k = k;
    a.v = v;
    a.q_stride = q_stride;
    a.k_stride = k_stride;
    a.v_stride = v_stride;
    a.n_head = n_head;
    a.n_head_kv = n_head_kv;
    a.dk = head_dim_k;
    a.dv = head_dim_v;
    a.rope_dim = rope.rope_dim;
    a.neox = rope.style == RopeStyle::Neox;
    a.log2_base = std::log2(double(rope.base));
    a.freq_scale = rope.freq_scale;
    a.freq_factors = rope.freq_factors;
    a.token_pos = batch.token_pos;
    a.token_seq = batch.token_seq;
    a.page_tables = batch.page_tables;
    a.table_stride = batch.table_stride;
    a.block_size = batch.block_size;
    a.n_tokens = batch.n_tokens;
    a.k_pool = static_cast<uint8_t*>(kv.k);
    a.v_pool = static_cast<uint8_t*>(kv.v);
    a.k_slot_bytes = uint32_t(kv::slot_bytes(kv_type, n_head_kv, head_dim_k));
    a.v_slot_bytes = uint32_t(kv::slot_bytes(kv_type, n_head_kv, head_dim_v));
    const uint64_t rows = uint64_t(n_head) + 2ull * n_head_kv;
    // Decode batches: a block per (token, 4 rows). Prefill: each block loops over several tokens
    // (the powers in double are then computed once per block, which matters where FP64 is slow).
    const dim3 grid(unsigned(ops::ceil_div(rows, kWarps)), std::min(batch.n_tokens, kMaxTokenBlocks));
    launch_stream_kernel(kv_type == KvType::F16 ? rope_store_kv_kernel<KvType::F16> : rope_store_kv_kernel<KvType::Q8_0>,
                         grid, dim3(kThreads), 0, stream, "rope_store_kv", a);
}

}  // namespace llcuda::cuda
