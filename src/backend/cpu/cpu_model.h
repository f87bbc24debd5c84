// The CPU forward pass: the reference every other backend is compared with.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/thread_pool.h"
#include "kv/paged_kv_cache.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace llcuda::cpu {

class CpuModel {
public:
    CpuModel(const ModelConfig& config, const ModelWeights& weights, ThreadPool& pool);

    // Runs `tokens` at positions [start, start + n) of sequence `seq`, appending their keys and values
    // to the cache (capacity must already be reserved). Writes logits to `logits`:
    // (n x n_vocab) when all_logits, else (1 x n_vocab) for the last token only.
    void forward(std::span<const int32_t> tokens, uint32_t start, PagedKvCache& kv, PagedKvCache::SeqId seq,
                 bool all_logits, std::vector<float>& logits);

private:
    void attention_layer(uint32_t il, uint32_t n, uint32_t start, PagedKvCache& kv, PagedKvCache::SeqId seq);
    void ffn_layer(uint32_t il, uint32_t n);

    const ModelConfig& c_;
    const ModelWeights& w_;
    ThreadPool& pool_;
    // Scratch, sized for the current batch of n tokens (row-major, one row per token):
    std::vector<float> x_;       // (n, n_embd) residual stream
    std::vector<float> h_;       // (n, n_embd) normalized input of a sub-block
    std::vector<float> q_;       // (n, n_head * head_dim_k)
    std::vector<float> k_;       // (n, n_head_kv * head_dim_k)
    std::vector<float> v_;       // (n, n_head_kv * head_dim_v)
    std::vector<float> qkv_;     // (n, q + k + v) for fused projections
    std::vector<float> attn_;    // (n, n_head * head_dim_v)
    std::vector<float> proj_;    // (n, n_embd) output of a projection back to the residual
    std::vector<float> gate_;    // (n, n_ff), or (n, 2 n_ff) fused
    std::vector<float> up_;      // (n, n_ff)
};

}  // namespace llcuda::cpu
