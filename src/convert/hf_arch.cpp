// HF architecture table and tensor name map (docs/checkpoint-formats.md §Tensor names).
#include "convert/hf_arch.h"

#include <fmt/format.h>

#include "llcuda/error.h"

namespace llcuda::convert {
namespace {

using json = nlohmann::json;

const HfArch kArchs[] = {
    {"LlamaForCausalLM", "llama", true, false, false, false},
    {"MistralForCausalLM", "llama", true, false, false, false},  // same converter class as llama
    {"Qwen2ForCausalLM", "qwen2", false, false, false, false},
    {"Qwen3ForCausalLM", "qwen3", false, false, false, false},
    {"Gemma3ForCausalLM", "gemma3", false, true, true, true},
    {"Phi3ForCausalLM", "phi3", false, false, false, false},
};

uint32_t get_u32(const json& c, const std::string& key, std::optional<uint32_t> fallback = std::nullopt) {
    const json* v = config_find(c, key);
    if (!v || v->is_null()) {
        if (fallback) return *fallback;
        throw Error(ErrorKind::FormatError, fmt::format("config.json: missing '{}'", key));
    }
    if (!v->is_number_integer() || v->get<int64_t>() < 0 || v->get<int64_t>() > int64_t(UINT32_MAX))
        throw Error(ErrorKind::FormatError, fmt::format("config.json: '{}' is not a valid count ({})", key, v->dump()));
    return v->get<uint32_t>();
}

}  // namespace

const json* config_find(const json& config, const std::string& key) {
    if (config.contains(key)) return &config[key];
    // Transformers 5 moves rope settings into rope_parameters (per attention type for gemma3).
    if (config.contains("rope_parameters") && config["rope_parameters"].is_object()) {
        const json& rp = config["rope_parameters"];
        if (rp.contains(key)) return &rp[key];
        if (rp.contains("full_attention") && rp["full_attention"].contains(key)) return &rp["full_attention"][key];
    }
    return nullptr;
}

HfArch hf_arch_from_config(const json& config) {
    if (!config.contains("architectures") || !config["architectures"].is_array() || config["architectures"].empty())
        throw Error(ErrorKind::FormatError, "config.json: no \"architectures\" list");
    const json& a = config["architectures"][0];
    const std::string name = a.is_string() ? a.get<std::string>() : a.dump();
    for (const auto& arch : kArchs) if (arch.hf_name == name) return arch;
    std::string known;
    for (const auto& arch : kArchs) known += (known.empty() ? "" : ", ") + arch.hf_name;
    throw Error(ErrorKind::Unsupported, fmt::format("architecture '{}' is not supported (supported: {})", name, known));
}

HfShape hf_shape_from_config(const json& c) {
    HfShape s;
    s.n_layer = get_u32(c, "num_hidden_layers");
    s.n_embd = get_u32(c, "hidden_size");
    s.n_head = get_u32(c, "num_attention_heads");
    s.n_head_kv = get_u32(c, "num_key_value_heads", s.n_head);
    s.n_ff = get_u32(c, "intermediate_size");
    s.n_vocab = get_u32(c, "vocab_size");
    if (s.n_head == 0 || s.n_head_kv == 0 || s.n_head % s.n_head_kv != 0)
        throw Error(ErrorKind::FormatError, fmt::format("config.json: {} heads cannot be grouped over {} kv heads",
                                                        s.n_head, s.n_head_kv));
    s.head_dim = get_u32(c, "head_dim", s.n_embd / s.n_head);
    return s;
}

std::optional<std::string> gguf_tensor_name(const HfArch& arch, const std::string& hf) {
    if (hf == "model.embed_tokens.weight") return "token_embd.weight";
    if (hf == "model.norm.weight") return "output_norm.weight";
    if (hf == "lm_head.weight") {
        if (arch.tied_output) return std::nullopt;
        return "output.weight";
    }
    if (hf.ends_with("rotary_emb.inv_freq")) return std::nullopt;  // recomputed at runtime
    const std::string prefix = "model.layers.";
    if (hf.starts_with(prefix)) {
        const size_t dot = hf.find('.', prefix.size());
        const std::string layer = hf.substr(prefix.size(), dot - prefix.size());
        bool digits = !layer.empty() && dot != std::string::npos;
        for (char ch : layer) digits = digits && ch >= '0' && ch <= '9';
        if (digits) {
            std::string rest = hf.substr(dot + 1);  // "self_attn.q_proj.weight"
            std::string suffix;
            for (const char* s : {".weight", ".bias"}) {
                if (rest.ends_with(s)) {
                    suffix = s;
                    rest.resize(rest.size() - suffix.size());
                }
            }
            static const std::pair<const char*, const char*> common[] = {
                {"input_layernorm", "attn_norm"},     {"self_attn.q_proj", "attn_q"},
                {"self_attn.k_proj", "attn_k"},       {"self_attn.v_proj", "attn_v"},
                {"self_attn.o_proj", "attn_output"},  {"self_attn.qkv_proj", "attn_qkv"},
                {"self_attn.q_norm", "attn_q_norm"},  {"self_attn.k_norm", "attn_k_norm"},
                {"mlp.gate_proj", "ffn_gate"},        {"mlp.up_proj", "ffn_up"},
                {"mlp.down_proj", "ffn_down"},        {"mlp.gate_up_proj", "ffn_up"},
                {"pre_feedforward_layernorm", "ffn_norm"}, {"post_feedforward_layernorm", "post_ffw_norm"},
            };
            std::string mapped;
            if (rest == "post_attention_layernorm") mapped = arch.gemma_norms ? "post_attention_norm" : "ffn_norm";
            for (const auto& [from, to] : common) if (rest == from) mapped = to;
            if (!mapped.empty() && !suffix.empty()) return fmt::format("blk.{}.{}{}", layer, mapped, suffix);
        }
    }
    throw Error(ErrorKind::Unsupported, fmt::format("{}: no GGUF name for tensor '{}'", arch.hf_name, hf));
}

}  // namespace llcuda::convert

namespace llcuda::convert {
std::optional<HfArch> hf_arch_for_gguf(const std::string& gguf_arch) {
    for (const auto& arch : kArchs) if (arch.gguf_arch == gguf_arch) return arch;
    return std::nullopt;
}
}  // namespace llcuda::convert
