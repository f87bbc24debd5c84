// A decoder-only transformer described as data: the hyperparameters read from GGUF metadata plus
// the flags that distinguish one architecture of the Llama family from another. Each backend
// implements the one block these flags describe (docs/model.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llcuda/gguf.h"

namespace llcuda {

enum class RopeStyle {
    Adjacent,  // rotate pairs (2i, 2i+1): llama.cpp's NORM mode, used for `llama` GGUFs
    Neox,      // rotate pairs (i, i + rope_dim/2): qwen2/3, gemma, phi3
};

enum class Activation { Silu, GeluTanh };

struct ModelConfig {
    std::string architecture;      // general.architecture
    uint32_t n_layer = 0;
    uint32_t n_embd = 0;
    uint32_t n_ff = 0;
    uint32_t n_head = 0;
    uint32_t n_head_kv = 0;
    uint32_t head_dim_k = 0;       // attention.key_length (default n_embd / n_head)
    uint32_t head_dim_v = 0;       // attention.value_length
    uint32_t n_vocab = 0;          // rows of token_embd (set by bind_weights)
    uint32_t n_ctx_train = 0;      // context_length
    float norm_eps = 1e-5f;

    // Rotary position embedding.
    RopeStyle rope_style = RopeStyle::Adjacent;
    uint32_t rope_dim = 0;         // rotated dimensions per head (<= head_dim_k)
    float rope_base = 10000.0f;
    float rope_base_local = 0.0f;  // sliding-window layers (gemma3); 0: same as rope_base
    float rope_freq_scale = 1.0f;  // 1 / linear scaling factor (global layers)

    // Attention.
    float attn_scale = 0.0f;       // multiplier on q·k; 0 means 1/sqrt(head_dim_k)
    uint32_t sliding_window = 0;   // 0: every layer attends to the whole context
    // Per layer: true when the layer uses the sliding window (gemma3: five local, one global).
    std::vector<bool> layer_is_local;

    // Block structure.
    bool has_qkv_bias = false;     // qwen2
    bool has_qk_norm = false;      // qwen3, gemma3: RMSNorm over each head of q and k
    bool fused_qkv = false;        // phi3: attn_qkv
    bool fused_gate_up = false;    // phi3: ffn_up holds gate rows then up rows
    bool has_post_norms = false;   // gemma2/3: post_attention_norm and post_ffw_norm
    bool scale_embeddings = false; // gemma: x = embedding * sqrt(n_embd)
    Activation activation = Activation::Silu;
    float final_logit_softcap = 0; // 0: none

    float layer_rope_base(uint32_t layer) const {
        return layer_is_local[layer] && rope_base_local > 0 ? rope_base_local : rope_base;
    }
    float layer_freq_scale(uint32_t layer) const { return layer_is_local[layer] ? 1.0f : rope_freq_scale; }
};

// Reads the configuration of a supported architecture; throws Unsupported naming an unknown one
// and FormatError naming a missing or malformed key.
ModelConfig read_model_config(const GgufContents& contents);

// The architectures read_model_config accepts.
std::vector<std::string> supported_architectures();

}  // namespace llcuda
