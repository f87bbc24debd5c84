// The tensors of a loaded model, bound by name from the GGUF file and checked against the config.
// Matrices stay in their stored (usually quantized) form inside the memory map; the small vectors
// (norm weights, biases, rope factors) are decoded to float32 once at load.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llcuda/ggml_type.h"
#include "llcuda/gguf.h"
#include "model/model_config.h"

namespace llcuda {

// A 2-D weight matrix (n_rows x n_cols, row-major, rows in the tensor's ggml type).
struct MatrixView {
    std::string name;
    const uint8_t* data = nullptr;  // nullptr: tensor absent
    GgmlType type = GgmlType::F32;
    uint64_t n_cols = 0;            // ne[0]: the input dimension
    uint64_t n_rows = 0;            // ne[1]: the output dimension
    uint64_t row_bytes = 0;

    bool present() const { return data != nullptr; }
    const uint8_t* row(uint64_t r) const { return data + r * row_bytes; }
};

struct LayerWeights {
    std::vector<float> attn_norm;       // (n_embd)
    MatrixView wq, wk, wv;              // (n_head*head_dim_k, n_embd), (n_head_kv*head_dim_k, ...), (n_head_kv*head_dim_v, ...)
    MatrixView wqkv;                    // phi3: the three above stacked
    std::vector<float> bq, bk, bv;      // qwen2 biases, else empty
    std::vector<float> q_norm, k_norm;  // (head_dim_k) when has_qk_norm
    MatrixView wo;                      // (n_embd, n_head*head_dim_v)
    std::vector<float> post_attn_norm;  // (n_embd) when has_post_norms
    std::vector<float> ffn_norm;        // (n_embd)
    MatrixView ffn_gate, ffn_up;        // (n_ff, n_embd); phi3: ffn_up is (2*n_ff, n_embd), gate absent
    MatrixView ffn_down;                // (n_embd, n_ff)
    std::vector<float> post_ffn_norm;   // (n_embd) when has_post_norms
};

struct ModelWeights {
    MatrixView token_embd;              // (n_vocab, n_embd): row t is token t's embedding
    std::vector<float> output_norm;     // (n_embd)
    MatrixView output;                  // (n_vocab, n_embd); token_embd when the file ties them
    std::vector<float> rope_freq_factors;  // (rope_dim/2) Llama-3 rope_freqs, or empty
    std::vector<LayerWeights> layers;
};

// Binds every tensor the architecture needs; throws FormatError naming a missing tensor or one
// whose shape does not match the configuration. Sets config.n_vocab from token_embd.
ModelWeights bind_weights(const GgufFile& file, ModelConfig& config);

// Decodes any tensor into float32 (used for vectors and in tests).
std::vector<float> tensor_to_floats(const GgufFile& file, const GgufTensorInfo& info);

}  // namespace llcuda
