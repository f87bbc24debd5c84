#include "model/weights.h"

#include <fmt/format.h>

#include "llcuda/error.h"
#include "llcuda/quantize.h"

namespace llcuda {

namespace {

class Binder {
public:
    Binder(const GgufFile& file, const ModelConfig& config) : file_(file), config_(config) {}

    const GgufTensorInfo* find(const std::string& name) const { return file_.contents().find_tensor(name); }

    const GgufTensorInfo& require(const std::string& name) const {
        const GgufTensorInfo* info = find(name);
        if (!info) {
            throw Error(ErrorKind::FormatError,
                        fmt::format("tensor '{}' is missing (required by architecture '{}')", name, config_.architecture));
        }
        return *info;
    }

    MatrixView matrix(const std::string& name, uint64_t n_cols, uint64_t n_rows, bool required = true) const {
        const GgufTensorInfo* info = required ? &require(name) : find(name);
        if (!info) return {};
        if (info->ne[0] != n_cols || info->ne[1] != n_rows || info->ne[2] != 1 || info->ne[3] != 1) {
            throw Error(ErrorKind::FormatError,
                        fmt::format("tensor '{}' has shape [{}, {}, {}, {}], expected [{}, {}]", name, info->ne[0],
                                    info->ne[1], info->ne[2], info->ne[3], n_cols, n_rows));
        }
        if (!can_dequantize(info->type)) {
            throw Error(ErrorKind::Unsupported,
                        fmt::format("tensor '{}' has type {}, which cannot be decoded", name, ggml_type_name(info->type)));
        }
        MatrixView m;
        m.name = name;
        m.data = file_.tensor_data(*info).data();
        m.type = info->type;
        m.n_cols = n_cols;
        m.n_rows = n_rows;
        m.row_bytes = ggml_row_bytes(info->type, n_cols);
        return m;
    }

    std::vector<float> vector(const std::string& name, uint64_t n, bool required = true) const {
        const GgufTensorInfo* info = required ? &require(name) : find(name);
        if (!info) return {};
        if (info->n_elements() != n) {
            throw Error(ErrorKind::FormatError,
                        fmt::format("tensor '{}' has {} elements, expected {}", name, info->n_elements(), n));
        }
        return tensor_to_floats(file_, *info);
    }

private:
    const GgufFile& file_;
    const ModelConfig& config_;
};

}  // namespace

std::vector<float> tensor_to_floats(const GgufFile& file, const GgufTensorInfo& info) {
    std::vector<float> out(info.n_elements());
    dequantize(info.type, file.tensor_data(info), out);
    return out;
}

ModelWeights bind_weights(const GgufFile& file, ModelConfig& c) {
    Binder b(file, c);
    ModelWeights w;
    const GgufTensorInfo& embd = b.require("token_embd.weight");
    c.n_vocab = uint32_t(embd.ne[1]);
    w.token_embd = b.matrix("token_embd.weight", c.n_embd, c.n_vocab);
    w.output_norm = b.vector("output_norm.weight", c.n_embd);
    w.output = b.matrix("output.weight", c.n_embd, c.n_vocab, /*required=*/false);
    if (!w.output.present()) w.output = w.token_embd;  // tied embeddings
    w.rope_freq_factors = b.vector("rope_freqs.weight", c.rope_dim / 2, /*required=*/false);
    if (b.find("rope_factors_long.weight") || b.find("rope_factors_short.weight")) {
        throw Error(ErrorKind::Unsupported, "LongRoPE (rope_factors_long/short) is not supported yet");
    }

    const uint64_t q_dim = uint64_t(c.n_head) * c.head_dim_k;
    const uint64_t k_dim = uint64_t(c.n_head_kv) * c.head_dim_k;
    const uint64_t v_dim = uint64_t(c.n_head_kv) * c.head_dim_v;
    const uint64_t o_dim = uint64_t(c.n_head) * c.head_dim_v;
    w.layers.resize(c.n_layer);
    for (uint32_t il = 0; il < c.n_layer; ++il) {
        LayerWeights& l = w.layers[il];
        const std::string p = fmt::format("blk.{}.", il);
        l.attn_norm = b.vector(p + "attn_norm.weight", c.n_embd);
        if (c.fused_qkv) {
            l.wqkv = b.matrix(p + "attn_qkv.weight", c.n_embd, q_dim + k_dim + v_dim);
        } else {
            l.wq = b.matrix(p + "attn_q.weight", c.n_embd, q_dim);
            l.wk = b.matrix(p + "attn_k.weight", c.n_embd, k_dim);
            l.wv = b.matrix(p + "attn_v.weight", c.n_embd, v_dim);
        }
        if (c.has_qkv_bias) {
            l.bq = b.vector(p + "attn_q.bias", q_dim);
            l.bk = b.vector(p + "attn_k.bias", k_dim);
            l.bv = b.vector(p + "attn_v.bias", v_dim);
        }
        if (c.has_qk_norm) {
            l.q_norm = b.vector(p + "attn_q_norm.weight", c.head_dim_k);
            l.k_norm = b.vector(p + "attn_k_norm.weight", c.head_dim_k);
        }
        l.wo = b.matrix(p + "attn_output.weight", o_dim, c.n_embd);
        if (c.has_post_norms) {
            l.post_attn_norm = b.vector(p + "post_attention_norm.weight", c.n_embd);
            l.post_ffn_norm = b.vector(p + "post_ffw_norm.weight", c.n_embd);
        }
        l.ffn_norm = b.vector(p + "ffn_norm.weight", c.n_embd);
        if (c.fused_gate_up) {
            l.ffn_up = b.matrix(p + "ffn_up.weight", c.n_embd, 2ull * c.n_ff);
        } else {
            l.ffn_gate = b.matrix(p + "ffn_gate.weight", c.n_embd, c.n_ff);
            l.ffn_up = b.matrix(p + "ffn_up.weight", c.n_embd, c.n_ff);
        }
        l.ffn_down = b.matrix(p + "ffn_down.weight", c.n_ff, c.n_embd);
    }
    return w;
}

}  // namespace llcuda
