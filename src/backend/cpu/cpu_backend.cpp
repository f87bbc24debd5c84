// One pre-norm transformer block, parameterized by ModelConfig, run layer after layer over every
// token of the batch at once (so each weight row is decoded once per batch, not once per token):
//
//   x = embed(tokens) (* sqrt(n_embd) for gemma)
//   per layer:  h = norm(x); q,k,v = h·Wq,Wk,Wv (+bias); q,k = norm_per_head(q,k); rope(q,k)
//               a = softmax(q·Kᵀ·scale, causal [sliding window]) · V;  o = a·Wo; (o = norm(o))
//               x += o
//               h = norm(x); f = (act(h·Wg) ⊙ h·Wu)·Wd; (f = norm(f));  x += f
//   logits = norm(x)·Woutᵀ (softcapped for some gemmas)
//
// Attention of a token reads its own sequence's keys and values through that sequence's page table.
#include "backend/cpu/cpu_backend.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <new>
#include <numeric>

#include <fmt/format.h>

#include "backend/batch_check.h"
#include "backend/cpu/ops.h"
#include "llcuda/error.h"

namespace llcuda::cpu {

CpuBackend::CpuBackend(const ModelConfig& config, const ModelWeights& weights, const KvCacheShape& kv,
                       unsigned n_threads)
    : c_(config), w_(weights), kv_(kv), pool_(n_threads) {
    try {
        k_pools_.assign(kv.n_layer, std::vector<float>(kv.n_slots() * kv.k_row()));
        v_pools_.assign(kv.n_layer, std::vector<float>(kv.n_slots() * kv.v_row()));
    } catch (const std::bad_alloc&) {
        throw Error(ErrorKind::OutOfMemory,
                    fmt::format("cannot allocate a KV cache of {} positions ({:.1f} MiB)", kv.n_slots(),
                                double(kv.n_slots() * kv_bytes_per_position()) / (1 << 20)));
    }
}

void CpuBackend::forward(const Batch& batch) {
    validate_batch(batch, kv_, c_.n_vocab);
    const uint32_t n = batch.n_tokens();
    const uint32_t d = c_.n_embd;
    token_pos_.resize(n);
    token_seq_.resize(n);
    x_.resize(uint64_t(n) * d);
    h_.resize(uint64_t(n) * d);
    proj_.resize(uint64_t(n) * d);
    const float embed_scale = c_.scale_embeddings ? std::sqrt(float(d)) : 1.0f;
    uint32_t t = 0;
    for (uint32_t si = 0; si < batch.sequences.size(); ++si) {
        const SequenceChunk& s = batch.sequences[si];
        for (uint32_t i = 0; i < s.tokens.size(); ++i, ++t) {
            token_pos_[t] = s.start + i;
            token_seq_[t] = si;
            float* row = &x_[uint64_t(t) * d];
            read_row(w_.token_embd, uint64_t(s.tokens[i]), row);
            if (embed_scale != 1.0f) {
                for (uint32_t j = 0; j < d; ++j) row[j] *= embed_scale;
            }
        }
    }
    for (uint32_t il = 0; il < c_.n_layer; ++il) {
        attention_layer(il, batch);
        ffn_layer(il, n);
    }
    // The logits rows: the last n_logits tokens of each sequence, in batch order.
    const uint32_t n_out = batch.n_logit_rows();
    uint32_t first = 0, row = 0;
    for (const SequenceChunk& s : batch.sequences) {
        for (uint32_t i = uint32_t(s.tokens.size()) - s.n_logits; i < s.tokens.size(); ++i, ++row) {
            rms_norm(&x_[uint64_t(first + i) * d], w_.output_norm, c_.norm_eps, &h_[uint64_t(row) * d]);
        }
        first += uint32_t(s.tokens.size());
    }
    logits_.resize(uint64_t(n_out) * c_.n_vocab);
    if (n_out == 0) return;
    matmul(pool_, w_.output, h_.data(), n_out, logits_.data());
    if (c_.final_logit_softcap > 0) {
        for (float& l : logits_) l = std::tanh(l / c_.final_logit_softcap) * c_.final_logit_softcap;
    }
}

std::vector<int32_t> CpuBackend::argmax() {
    const uint32_t n_rows = uint32_t(logits_.size() / c_.n_vocab);
    std::vector<int32_t> ids(n_rows);
    for (uint32_t r = 0; r < n_rows; ++r) {
        const float* row = &logits_[uint64_t(r) * c_.n_vocab];
        ids[r] = int32_t(std::max_element(row, row + c_.n_vocab) - row);  // first maximum: lowest id
    }
    return ids;
}

void top_candidates(std::span<const float> logits, uint32_t n_vocab, std::span<const CandidateRequest> requests,
                    std::vector<RowCandidates>& out) {
    const uint32_t n_rows = n_vocab ? uint32_t(logits.size() / n_vocab) : 0;
    check_candidate_requests(requests, n_rows, n_vocab);
    out.resize(requests.size());
    std::vector<int32_t> ids;  // [n_vocab or the allowed tokens] token ids, reordered per request
    ids.reserve(n_vocab);
    for (size_t i = 0; i < requests.size(); ++i) {
        const CandidateRequest& r = requests[i];
        const std::span<const float> row = logits.subspan(uint64_t(r.row) * n_vocab, n_vocab);
        // The sampler's strict order: logit descending, equal logits by lower id.
        auto before = [&](int32_t a, int32_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); };
        if (r.allowed.empty()) {
            ids.resize(n_vocab);
            std::iota(ids.begin(), ids.end(), 0);
        } else {  // only the allowed tokens compete
            ids.clear();
            for (size_t w = 0; w < r.allowed.size(); ++w) {
                for (uint64_t bits = r.allowed[w]; bits != 0; bits &= bits - 1) {
                    const uint64_t id = w * 64 + uint64_t(std::countr_zero(bits));
                    if (id < n_vocab) ids.push_back(int32_t(id));
                }
            }
        }
        const uint32_t n_top = std::min<uint32_t>(r.n_top, uint32_t(ids.size()));
        RowCandidates& c = out[i];
        c.top.resize(n_top);
        if (n_top > 0) {
            std::nth_element(ids.begin(), ids.begin() + (n_top - 1), ids.end(), before);
            std::sort(ids.begin(), ids.begin() + n_top, before);
        }
        for (uint32_t j = 0; j < n_top; ++j) c.top[j] = {ids[j], row[ids[j]]};
        c.extra.clear();
        for (int32_t id : r.extra) {
            if (token_allowed(r.allowed, id)) c.extra.push_back({id, row[size_t(id)]});
        }
        c.log_sum_exp = log_sum_exp(row);
    }
}

void CpuBackend::attention_layer(uint32_t il, const Batch& batch) {
    const LayerWeights& l = w_.layers[il];
    const uint32_t n = uint32_t(token_pos_.size());
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
        const uint32_t pos = token_pos_[t];
        rope(q, c_.n_head, c_.head_dim_k, c_.rope_dim, c_.rope_style, pos, base, freq_scale, w_.rope_freq_factors);
        rope(k, c_.n_head_kv, c_.head_dim_k, c_.rope_dim, c_.rope_style, pos, base, freq_scale, w_.rope_freq_factors);
        const uint64_t slot = kv_slot(batch.sequences[token_seq_[t]].blocks, kv_.block_size, pos);
        std::copy(k, k + k_dim, key(il, slot));
        std::copy(&v_[t * v_dim], &v_[(t + 1) * v_dim], value(il, slot));
    }

    // Causal attention, one (token, head) pair per work item; every token's keys are in the cache.
    attn_.assign(n * o_dim, 0.0f);
    const uint32_t group = c_.n_head / c_.n_head_kv;
    const bool local = c_.layer_is_local[il];
    pool_.parallel_for(uint64_t(n) * c_.n_head, [&](size_t begin, size_t end) {
        std::vector<float> scores;
        for (size_t item = begin; item < end; ++item) {
            const uint32_t t = uint32_t(item / c_.n_head), h = uint32_t(item % c_.n_head), kvh = h / group;
            const uint32_t pos = token_pos_[t];
            const auto blocks = batch.sequences[token_seq_[t]].blocks;
            const uint32_t first = local && pos + 1 > c_.sliding_window ? pos + 1 - c_.sliding_window : 0;
            const float* q = &q_[t * q_dim + uint64_t(h) * c_.head_dim_k];
            scores.resize(pos + 1 - first);
            for (uint32_t j = first; j <= pos; ++j) {
                const float* k = key(il, kv_slot(blocks, kv_.block_size, j)) + uint64_t(kvh) * c_.head_dim_k;
                scores[j - first] = dot(q, k, c_.head_dim_k) * c_.attn_scale;
            }
            softmax(scores.data(), uint32_t(scores.size()));
            float* out = &attn_[t * o_dim + uint64_t(h) * c_.head_dim_v];
            for (uint32_t j = first; j <= pos; ++j) {
                const float* v = value(il, kv_slot(blocks, kv_.block_size, j)) + uint64_t(kvh) * c_.head_dim_v;
                const float p = scores[j - first];
                for (uint32_t i = 0; i < c_.head_dim_v; ++i) out[i] += p * v[i];
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

void CpuBackend::ffn_layer(uint32_t il, uint32_t n) {
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
