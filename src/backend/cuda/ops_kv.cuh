// The device KV cache layout, shared by the writer (rope_store_kv, ops_kv.cu) and the reader
// (attention, ops_attention.cu).
//
// Each layer has a K pool and a V pool of n_blocks * block_size slots. The slot of position `pos`
// of sequence `seq` is
//     page_tables[seq * table_stride + pos / block_size] * block_size + pos % block_size
// and a slot holds that position's keys (or values) for all n_head_kv heads:
//
//   F16:   n_head_kv * head_dim halves, head-major: (n_head_kv, head_dim).
//   Q8_0:  [quants: n_head_kv * head_dim int8, head-major]
//          [scales: n_head_kv * head_dim / 32 halves, one per block of 32 quants, same order]
//          [zero padding up to a multiple of 16 bytes]
//          x = quant * scale; scale = max|x| / 127 over the block, quant = round(x / scale), as
//          ggml's Q8_0 (and llcuda::quantize) computes them.
//
// Quants and scales sit in separate regions so that each head's quants (head_dim bytes, a multiple
// of 32) start 16-byte aligned for wide loads, and every slot starts 16-byte aligned (slot sizes
// are multiples of 16; the pools come from cudaMalloc). Requirements: head_dim % 8 == 0 (F16) or
// % 32 == 0 (Q8_0), head_dim <= 256.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "backend/cuda/kernels.h"
#include "backend/cuda/ops_common.cuh"

namespace llcuda::cuda::kv {

constexpr uint32_t kQ8Block = 32;
constexpr uint32_t kMaxHeadDim = 256;

__host__ __device__ constexpr uint64_t round_up16(uint64_t n) { return (n + 15) & ~uint64_t(15); }

// Bytes of the quants region of a Q8_0 slot (where its scales start).
__host__ __device__ constexpr uint64_t q8_quant_bytes(uint32_t n_head_kv, uint32_t head_dim) {
    return uint64_t(n_head_kv) * head_dim;
}

__host__ __device__ constexpr uint64_t slot_bytes(KvType type, uint32_t n_head_kv, uint32_t head_dim) {
    return type == KvType::F16
               ? round_up16(uint64_t(n_head_kv) * head_dim * 2)
               : round_up16(q8_quant_bytes(n_head_kv, head_dim) + uint64_t(n_head_kv) * head_dim / kQ8Block * 2);
}

// The slot of position `pos` of batch sequence `seq`.
__device__ __forceinline__ uint64_t slot_of(const int32_t* page_tables, uint32_t table_stride, uint32_t block_size,
                                            int32_t seq, uint32_t pos) {
    const int32_t block = page_tables[uint64_t(seq) * table_stride + pos / block_size];
    return uint64_t(block) * block_size + pos % block_size;
}

// Host-side checks of what every KV kernel assumes; `who` names the entry point in the message.
inline void check_shape(const char* who, KvType type, uint32_t n_head, uint32_t n_head_kv, uint32_t head_dim_k,
                        uint32_t head_dim_v, const DeviceBatch& batch, KvLayer layer) {
    const std::string w = std::string(who) + ": ";
    if (n_head_kv == 0 || n_head % n_head_kv != 0) {
        ops::invalid(w + std::to_string(n_head) + " query heads cannot share " + std::to_string(n_head_kv) +
                     " KV heads evenly");
    }
    const uint32_t multiple = type == KvType::F16 ? 8 : kQ8Block;
    for (const uint32_t d : {head_dim_k, head_dim_v}) {
        if (d == 0 || d > kMaxHeadDim || d % multiple != 0) {
            ops::unsupported(w + "head_dim " + std::to_string(d) + " with a " +
                             (type == KvType::F16 ? "f16" : "q8_0") + " KV cache (needs a multiple of " +
                             std::to_string(multiple) + " up to " + std::to_string(kMaxHeadDim) + ")");
        }
    }
    if (batch.block_size == 0 || batch.table_stride == 0 || !batch.token_pos || !batch.token_seq ||
        !batch.page_tables) {
        ops::invalid(w + "incomplete batch (block size, page tables, token positions and sequences are required)");
    }
    if (!layer.k || !layer.v || !ops::aligned16(layer.k) || !ops::aligned16(layer.v)) {
        ops::invalid(w + "KV pools must be allocated and 16-byte aligned");
    }
}

}  // namespace llcuda::cuda::kv
