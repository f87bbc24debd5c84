// What differs between the Hugging Face architectures the converter supports (docs/checkpoint-formats.md §Tensor names):
// the GGUF architecture name, the tensor name map, the llama Q/K permutation, Gemma's norm +1.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace llcuda::convert {

struct HfArch {
    std::string hf_name;        // "LlamaForCausalLM"
    std::string gguf_arch;      // "llama"
    bool permute_qk = false;    // llama/mistral: HF rotate-half rows -> interleaved pairs (§5.3)
    bool norm_plus_one = false; // gemma: stored norm weights are w, llama.cpp wants 1 + w (§5.4)
    bool gemma_norms = false;   // post_attention_layernorm -> post_attention_norm, pre/post_feedforward
    bool tied_output = false;   // converter never writes output.weight (gemma)
};

// The architecture named in config.json "architectures"; Unsupported naming the supported ones.
HfArch hf_arch_from_config(const nlohmann::json& config);

// Model facts the tensor map needs (head counts for the permutation).
struct HfShape {
    uint32_t n_layer = 0, n_embd = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_ff = 0, n_vocab = 0;
};
HfShape hf_shape_from_config(const nlohmann::json& config);

// HF tensor name -> GGUF name; nullopt for tensors the converter drops (rotary inv_freq, tied
// lm_head for gemma). Unknown names raise Unsupported so nothing is silently lost.
std::optional<std::string> gguf_tensor_name(const HfArch& arch, const std::string& hf_name);

// config.json value with the Transformers 5 layout fallback (rope_parameters.*).
const nlohmann::json* config_find(const nlohmann::json& config, const std::string& key);

}  // namespace llcuda::convert

namespace llcuda::convert {
// The HF architecture whose converter writes this general.architecture (llama -> Llama...).
std::optional<HfArch> hf_arch_for_gguf(const std::string& gguf_arch);
}  // namespace llcuda::convert
