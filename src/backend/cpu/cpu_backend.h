// The CPU backend: the reference forward pass every other backend is compared with. Plain loops
// with float32 accumulation over the quantized weights in the memory map; the KV cache is float32.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "backend/compute_backend.h"
#include "core/thread_pool.h"
#include "kv/kv_blocks.h"
#include "llcuda/kv_size.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace llcuda::cpu {

// ComputeBackend::top_candidates over host logits (n_rows x n_vocab, row-major): the CPU backend's
// implementation, free so that tests can run it on any rows. The log-sum-exp is llcuda::log_sum_exp.
void top_candidates(std::span<const float> logits, uint32_t n_vocab, std::span<const CandidateRequest> requests,
                    std::vector<RowCandidates>& out);

class CpuBackend final : public ComputeBackend {
public:
    // Allocates float32 K/V pools for kv.n_slots() positions (OutOfMemory naming the size).
    CpuBackend(const ModelConfig& config, const ModelWeights& weights, const KvCacheShape& kv, unsigned n_threads);

    std::string name() const override { return "cpu"; }
    void forward(const Batch& batch) override;
    void copy_logits(std::vector<float>& out) override { out = logits_; }
    std::vector<int32_t> argmax() override;
    void top_candidates(std::span<const CandidateRequest> requests, std::vector<RowCandidates>& out) override {
        cpu::top_candidates(logits_, c_.n_vocab, requests, out);
    }
    uint64_t kv_bytes_per_position() const override {
        return kv_cache_bytes_per_token(kv_.n_layer, kv_.n_head_kv, kv_.head_dim_k, kv_.head_dim_v, GgmlType::F32,
                                        GgmlType::F32);
    }

private:
    void attention_layer(uint32_t il, const Batch& batch);
    void ffn_layer(uint32_t il, uint32_t n);
    float* key(uint32_t layer, uint64_t slot) { return k_pools_[layer].data() + slot * kv_.k_row(); }
    float* value(uint32_t layer, uint64_t slot) { return v_pools_[layer].data() + slot * kv_.v_row(); }

    const ModelConfig& c_;
    const ModelWeights& w_;
    KvCacheShape kv_;
    ThreadPool pool_;
    std::vector<std::vector<float>> k_pools_, v_pools_;  // per layer: (n_slots, k_row) and (n_slots, v_row)

    // Per batch token (n): its position and the index of its sequence in the batch.
    std::vector<uint32_t> token_pos_, token_seq_;
    std::vector<float> logits_;  // (n_logit_rows, n_vocab)
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
