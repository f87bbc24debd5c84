// One pre-norm transformer block, parameterized by ModelConfig, run layer after layer:
//
//   x = embed(tokens) (* sqrt(n_embd) for gemma)
//   per layer:  h = norm(x); q,k,v = h·Wq,Wk,Wv (+bias); q,k = norm_per_head(q,k); rope(q,k)
//               a = softmax(q·Kᵀ·scale, causal [sliding window]) · V;  o = a·Wo; (o = norm(o))
//               x += o
//               h = norm(x); f = (act(h·Wg) ⊙ h·Wu)·Wd; (f = norm(f));  x += f
//   logits = norm(x)·Woutᵀ (softcapped for some gemmas)
#include "backend/cpu/cpu_model.h"

#include <cmath>

#include "backend/cpu/ops.h"

namespace llcuda::cpu {

CpuModel::CpuModel(const ModelConfig& config, const ModelWeights& weights, ThreadPool& pool)
    : c_(config), w_(weights), pool_(pool) {}

void CpuModel::forward(std::span<const int32_t> tokens, uint32_t start, PagedKvCache& kv, PagedKvCache::SeqId seq,
                       bool all_logits, std::vector<float>& logits) {
    const uint32_t n = uint32_t(tokens.size());
    const uint32_t d = c_.n_embd;
    x_.resize(uint64_t(n) * d);
    h_.resize(uint64_t(n) * d);
    proj_.resize(uint64_t(n) * d);
    const float embed_scale = c_.scale_embeddings ? std::sqrt(float(d)) : 1.0f;
    for (uint32_t t = 0; t < n; ++t) {
        read_row(w_.token_embd, uint64_t(tokens[t]), &x_[uint64_t(t) * d]);
        if (embed_scale != 1.0f) {
            for (uint32_t i = 0; i < d; ++i) x_[uint64_t(t) * d + i] *= embed_scale;
        }
    }
    for (uint32_t il = 0; il < c_.n_layer; ++il) {
        attention_layer(il, n, start, kv, seq);
        ffn_layer(il, n);
    }
    const uint32_t first = all_logits ? 0 : n - 1;
    const uint32_t n_out = n - first;
    for (uint32_t t = first; t < n; ++t) {
        rms_norm(&x_[uint64_t(t) * d], w_.output_norm, c_.norm_eps, &h_[uint64_t(t - first) * d]);
    }
    logits.resize(uint64_t(n_out) * c_.n_vocab);
    matmul(pool_, w_.output, h_.data(), n_out, logits.data());
    if (c_.final_logit_softcap > 0) {
        for (float& l : logits) l = std::tanh(l / c_.final_logit_softcap) * c_.final_logit_softcap;
    }
}

void CpuModel::attention_layer(uint32_t il, uint32_t n, uint32_t start, PagedKvCache& kv, PagedKvCache::SeqId seq) {
    const LayerWeights& l = w_.layers[il];
    const uint32_t d = c_.n_embd;
    const uint64_t q_dim = uint64_t(c_.n_head) * c_.head_dim_k;
    const uint64_t k_dim = uint64_t(c_.n_head_kv) * c_.head_dim_k;
    const uint64_t v_dim = uint64_t(c_.n_head_kv) * c_.head_dim_v;
    const uint64_t o_dim = uint64_t(c_.n_head) * c_.head_dim_v;
    for (uint32_t t = 0; t < n; ++t) rms_norm(&x_[uint64_t(t) * d], l.attn_norm, c_.norm_eps, &h_[uint64_t(t) * d]);

    q_.resize(n * q_dim);
    k_.resize(n * k_dim);
    v_.resize(n * v_dim);
    if (c_.fused_qkv) {
        qkv_.resize(n * (q_dim + k_dim + v_dim));
        matmul(pool_, l.wqkv, h_.data(), n, qkv_.data());
        for (uint32_t t = 0; t < n; ++t) {
            const float* row = &qkv_[t * (q_dim + k_dim + v_dim)];
            std::copy(row, row + q_dim, &q_[t * q_dim]);
            std::copy(row + q_dim, row + q_dim + k_dim, &k_[t * k_dim]);
            std::copy(row + q_dim + k_dim, row + q_dim + k_dim + v_dim, &v_[t * v_dim]);
        }
    } else {
        matmul(pool_, l.wq, h_.data(), n, q_.data());
        matmul(pool_, l.wk, h_.data(), n, k_.data());
        matmul(pool_, l.wv, h_.data(), n, v_.data());
    }
    if (c_.has_qkv_bias) {
        for (uint32_t t = 0; t < n; ++t) {
            for (uint64_t i = 0; i < q_dim; ++i) q_[t * q_dim + i] += l.bq[i];
            for (uint64_t i = 0; i < k_dim; ++i) k_[t * k_dim + i] += l.bk[i];
            for (uint64_t i = 0; i < v_dim; ++i) v_[t * v_dim + i] += l.bv[i];
        }
    }
    const float base = c_.layer_rope_base(il), freq_scale = c_.layer_freq_scale(il);
    for (uint32_t t = 0; t < n; ++t) {
        float* q = &q_[t * q_dim];
        float* k = &k_[t * k_dim];
        if (c_.has_qk_norm) {
            for (uint32_t h = 0; h < c_.n_head; ++h) rms_norm(q + h * c_.head_dim_k, l.q_norm, c_.norm_eps, q + h * c_.head_dim_k);
            for (uint32_t h = 0; h < c_.n_head_kv; ++h) rms_norm(k + h * c_.head_dim_k, l.k_norm, c_.norm_eps, k + h * c_.head_dim_k);
        }
        rope(q, c_.n_head, c_.head_dim_k, c_.rope_dim, c_.rope_style, start + t, base, freq_scale, w_.rope_freq_factors);
        rope(k, c_.n_head_kv, c_.head_dim_k, c_.rope_dim, c_.rope_style, start + t, base, freq_scale, w_.rope_freq_factors);
        std::copy(k, k + k_dim, kv.key(il, seq, start + t));
        std::copy(&v_[t * v_dim], &v_[(t + 1) * v_dim], kv.value(il, seq, start + t));
    }

    // Causal attention, one (token, head) pair per work item.
    attn_.assign(n * o_dim, 0.0f);
    const uint32_t group = c_.n_head / c_.n_head_kv;
    const bool local = c_.layer_is_local[il];
    pool_.parallel_for(uint64_t(n) * c_.n_head, [&](size_t begin, size_t end) {
        std::vector<float> scores;
        for (size_t item = begin; item < end; ++item) {
            const uint32_t t = uint32_t(item / c_.n_head), h = uint32_t(item % c_.n_head), kvh = h / group;
            const uint32_t pos = start + t;
            const uint32_t first = local && pos + 1 > c_.sliding_window ? pos + 1 - c_.sliding_window : 0;
            const float* q = &q_[t * q_dim + uint64_t(h) * c_.head_dim_k];
            scores.resize(pos + 1 - first);
            for (uint32_t j = first; j <= pos; ++j) {
                const float* key = kv.key(il, seq, j) + uint64_t(kvh) * c_.head_dim_k;
                scores[j - first] = dot(q, key, c_.head_dim_k) * c_.attn_scale;
            }
            softmax(scores.data(), uint32_t(scores.size()));
            float* out = &attn_[t * o_dim + uint64_t(h) * c_.head_dim_v];
            for (uint32_t j = first; j <= pos; ++j) {
                const float* value = kv.value(il, seq, j) + uint64_t(kvh) * c_.head_dim_v;
                const float p = scores[j - first];
                for (uint32_t i = 0; i < c_.head_dim_v; ++i) out[i] += p * value[i];
            }
        }
    });

    matmul(pool_, l.wo, attn_.data(), n, proj_.data());
    for (uint32_t t = 0; t < n; ++t) {
        float* o = &proj_[uint64_t(t) * d];
        if (c_.has_post_norms) rms_norm(o, l.post_attn_norm, c_.norm_eps, o);
        for (uint32_t i = 0; i < d; ++i) x_[uint64_t(t) * d + i] += o[i];
    }
}

void CpuModel::ffn_layer(uint32_t il, uint32_t n) {
    const LayerWeights& l = w_.layers[il];
    const uint32_t d = c_.n_embd, ff = c_.n_ff;
    for (uint32_t t = 0; t < n; ++t) rms_norm(&x_[uint64_t(t) * d], l.ffn_norm, c_.norm_eps, &h_[uint64_t(t) * d]);
    gate_.resize(uint64_t(n) * ff);
    up_.resize(uint64_t(n) * ff);
    if (c_.fused_gate_up) {
        matmul_rows(pool_, l.ffn_up, 0, ff, h_.data(), n, gate_.data());
        matmul_rows(pool_, l.ffn_up, ff, 2ull * ff, h_.data(), n, up_.data());
    } else {
        matmul(pool_, l.ffn_gate, h_.data(), n, gate_.data());
        matmul(pool_, l.ffn_up, h_.data(), n, up_.data());
    }
    const bool gelu = c_.activation == Activation::GeluTanh;
    for (uint64_t i = 0; i < uint64_t(n) * ff; ++i) gate_[i] = (gelu ? gelu_tanh(gate_[i]) : silu(gate_[i])) * up_[i];
    matmul(pool_, l.ffn_down, gate_.data(), n, proj_.data());
    for (uint32_t t = 0; t < n; ++t) {
        float* f = &proj_[uint64_t(t) * d];
        if (c_.has_post_norms) rms_norm(f, l.post_ffn_norm, c_.norm_eps, f);
        for (uint32_t i = 0; i < d; ++i) x_[uint64_t(t) * d + i] += f[i];
    }
}

}  // namespace llcuda::cpu
