#include "model/model_config.h"

#include <cmath>

#include <fmt/format.h>

#include "llcuda/error.h"
#include "model/arch/arch.h"

namespace llcuda {

namespace {

using Configure = void (*)(const GgufContents&, ModelConfig&);

struct ArchEntry {
    const char* name;
    Configure configure;
};

// general.architecture -> its configuration function. "mistral" GGUFs written by older converters
// use the llama block unchanged.
constexpr ArchEntry kArchitectures[] = {
    {"llama", arch::configure_llama},   {"mistral", arch::configure_llama},
    {"qwen2", arch::configure_qwen2},   {"qwen3", arch::configure_qwen3},
    {"gemma3", arch::configure_gemma3}, {"phi3", arch::configure_phi3},
};

uint32_t required_u32(const GgufContents& g, const std::string& key) {
    const GgufValue* v = g.find(key);
    if (!v) throw Error(ErrorKind::FormatError, fmt::format("model metadata is missing '{}'", key));
    if (v->type() == GgufType::Array) {
        throw Error(ErrorKind::Unsupported, fmt::format("'{}' varies per layer, which is not supported yet", key));
    }
    const int64_t value = g.get_integer(key);
    if (value <= 0 || value > int64_t(UINT32_MAX)) {
        throw Error(ErrorKind::FormatError, fmt::format("'{}' has the invalid value {}", key, value));
    }
    return uint32_t(value);
}

void read_rope_scaling(const GgufContents& g, ModelConfig& c) {
    const std::string& a = c.architecture;
    const std::string type = g.get_string_or(a + ".rope.scaling.type", "none");
    float factor = g.get_f32_or(a + ".rope.scaling.factor", g.get_f32_or(a + ".rope.scale_linear", 1.0f));
    if (type == "none" || factor == 1.0f || factor == 0.0f) return;
    if (type != "linear") {
        throw Error(ErrorKind::Unsupported, fmt::format("rope scaling '{}' is not supported yet", type));
    }
    c.rope_freq_scale = 1.0f / factor;
}

}  // namespace

std::vector<std::string> supported_architectures() {
    std::vector<std::string> names;
    for (const auto& e : kArchitectures) names.emplace_back(e.name);
    return names;
}

ModelConfig read_model_config(const GgufContents& g) {
    ModelConfig c;
    if (!g.has("general.architecture")) {
        throw Error(ErrorKind::FormatError, "model metadata is missing 'general.architecture'");
    }
    c.architecture = g.get_string("general.architecture");
    const ArchEntry* entry = nullptr;
    for (const auto& e : kArchitectures) {
        if (c.architecture == e.name) entry = &e;
    }
    if (!entry) {
        std::string known;
        for (const auto& name : supported_architectures()) known += (known.empty() ? "" : ", ") + name;
        throw Error(ErrorKind::Unsupported,
                    fmt::format("architecture '{}' is not supported (supported: {})", c.architecture, known));
    }
    const std::string& a = c.architecture;
    c.n_layer = required_u32(g, a + ".block_count");
    c.n_embd = required_u32(g, a + ".embedding_length");
    c.n_ff = required_u32(g, a + ".feed_forward_length");
    c.n_head = required_u32(g, a + ".attention.head_count");
    c.n_head_kv = g.has(a + ".attention.head_count_kv") ? required_u32(g, a + ".attention.head_count_kv") : c.n_head;
    if (c.n_head % c.n_head_kv != 0) {
        throw Error(ErrorKind::FormatError,
                    fmt::format("{} attention heads cannot be grouped over {} key/value heads", c.n_head, c.n_head_kv));
    }
    c.head_dim_k = g.has(a + ".attention.key_length") ? required_u32(g, a + ".attention.key_length")
                                                     : c.n_embd / c.n_head;
    c.head_dim_v = g.has(a + ".attention.value_length") ? required_u32(g, a + ".attention.value_length")
                                                       : c.head_dim_k;
    c.n_ctx_train = g.has(a + ".context_length") ? required_u32(g, a + ".context_length") : 4096;
    c.norm_eps = g.get_f32_or(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
    c.rope_dim = g.has(a + ".rope.dimension_count") ? required_u32(g, a + ".rope.dimension_count") : c.head_dim_k;
    if (c.rope_dim > c.head_dim_k || c.rope_dim % 2 != 0) {
        throw Error(ErrorKind::FormatError, fmt::format("rope dimension {} does not fit head size {}", c.rope_dim,
                                                        c.head_dim_k));
    }
    c.rope_base = g.get_f32_or(a + ".rope.freq_base", 10000.0f);
    read_rope_scaling(g, c);
    c.layer_is_local.assign(c.n_layer, false);
    entry->configure(g, c);
    if (c.attn_scale == 0.0f) c.attn_scale = 1.0f / std::sqrt(float(c.head_dim_k));
    return c;
}

}  // namespace llcuda
