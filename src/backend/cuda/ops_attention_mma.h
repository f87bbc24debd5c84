// Internal to the attention entry point (ops_attention.cu): the tensor-core FlashAttention-2 path
// (ops_attention_mma.cu) that attention() dispatches f16 and q8_0 KV caches to, and the split-KV merge
// kernel both paths share. Not part of kernels.h: callers only see attention().
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "backend/cuda/kernels.h"

namespace llcuda::cuda {

// False when LLCUDA_ATTN_MMA=0 is set in the environment (read once): attention() then always
// uses the CUDA-core kernel, for A/B measurements.
bool attention_mma_enabled();

// The shape rule of the tensor-core path (no device query; tests use it to know which kernel a
// case exercises): f16 or q8_0 KV cache, head_dim_k == head_dim_v in {64, 128, 256}, GQA group
// 1..8, and either a batch that is not pure decode with at least 16 tokens, or a pure decode batch
// (n_seqs == n_tokens, n_seqs known) whose max_kv_len is at least 1024 or that has 4+ sequences
// (LLCUDA_ATTN_MMA_DECODE_SEQS, read once, moves the 4).
bool attention_mma_covers(const AttentionParams& p, KvType kv_type, uint32_t n_tokens, uint32_t n_seqs,
                          uint32_t max_kv_len);

// Whether attention() runs the tensor-core kernel: the knob is on, the shapes are covered, q is
// 16-byte aligned with q_stride % 4 == 0, and the kernel fits the device's shared memory (a
// cached query). Reads no device memory.
bool attention_uses_mma(const AttentionParams& p, KvType kv_type, uint32_t n_tokens, uint32_t n_seqs,
                        uint32_t max_kv_len, const float* q, uint32_t q_stride);

// Scratch bytes the tensor-core path needs for up to max_tokens tokens and max_kv_len positions
// (tile list and split partials); 0 when it would never run for these shapes.
uint64_t attention_mma_scratch_bytes(const AttentionParams& p, uint32_t max_tokens, uint32_t max_kv_len);

// Runs the tensor-core path; only valid when attention_uses_mma(...) is true (checked by the caller).
void attention_mma(const float* q, uint32_t q_stride, const AttentionParams& p, const DeviceBatch& batch, KvLayer kv,
                   KvType kv_type, float* out, void* scratch, cudaStream_t stream);

// Merges split-KV partials (ops_attention.cu): for each of n_rows (token, head) rows,
// part_acc (n_rows, n_splits, dv) unnormalized accumulators and part_ml (n_rows, n_splits, 2) the
// running max (base 2) and sum; out (n_rows, dv) = Σ_s 2^(m_s - m) acc_s / Σ_s 2^(m_s - m) l_s.
// n_splits <= 128.
void attention_merge_splits(const float* part_acc, const float* part_ml, uint32_t n_rows, uint32_t n_splits,
                            uint32_t dv, float* out, cudaStream_t stream);

}  // namespace llcuda::cuda
