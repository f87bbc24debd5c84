// File-type presets and the per-tensor mix rules of llama-quantize for dense models
// (docs/quant-mixes.md). MoE-specific, Falcon-specific and "70B" rules are not implemented; see
// docs/quant.md.
#include "quant/mixes.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace llcuda::quant {
namespace {

using F = FileType;
using T = GgmlType;

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }
bool ends_with(std::string_view s, std::string_view tail) { return s.ends_with(tail); }

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2: the first and last eighth of the layers, and every
// third layer in between, get more bits.
bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

// Replacement when the row length is not a multiple of the chosen type's block (docs/quant-mixes.md §Shape fallback).
T shape_fallback(T type, uint64_t ne0) {
    if (ne0 % ggml_type_info(type).block_size == 0) return type;
    T fallback = type;
    switch (type) {
        case T::IQ1_S: case T::IQ1_M: case T::IQ2_XXS: case T::IQ2_XS: case T::IQ2_S: case T::IQ3_XXS:
        case T::IQ3_S: case T::IQ4_XS: fallback = T::IQ4_NL; break;
        case T::Q2_0: case T::Q2_K: case T::Q3_K: case T::TQ1_0: case T::TQ2_0: fallback = T::Q4_0; break;
        case T::Q4_K: fallback = T::Q5_0; break;
        case T::Q5_K: fallback = T::Q5_1; break;
        case T::Q6_K: fallback = T::Q8_0; break;
        default: break;
    }
    return ne0 % ggml_type_info(fallback).block_size == 0 ? fallback : T::F16;
}

int block_number(std::string_view name) {
    if (!name.starts_with("blk.")) return -1;
    int n = 0;
    const auto [ptr, ec] = std::from_chars(name.data() + 4, name.data() + name.size(), n);
    return ec == std::errc() ? n : -1;
}

bool is_attn_v_like(std::string_view name) {
    return contains(name, "attn_v.weight") || contains(name, "attn_qkv.weight") || contains(name, "attn_kv_b.weight");
}

// Counters that llama-quantize keeps while visiting tensors in order.
struct MixState {
    int n_attention_wv = 0, i_attention_wv = 0;
    int n_ffn_down = 0, i_ffn_down = 0;
    int n_gqa = 1;
};

// The mix rules proper (llama_tensor_get_type) for one quantizable tensor.
T mixed_type(const PlanTensor& t, F ftype, T default_type, bool has_output, MixState& st) {
    const std::string_view name = t.name;
    T type = default_type;
    if (name == "output.weight" || (!has_output && name == "token_embd.weight")) {
        if (t.ne[0] % ggml_type_info(default_type).block_size != 0) type = T::Q8_0;
        else if (default_type != T::Q8_0) type = T::Q6_K;
    } else if (name == "token_embd.weight") {
        type = default_type;
    } else if (is_attn_v_like(name)) {
        const int i = st.i_attention_wv++;
        if (ftype == F::MOSTLY_Q2_K) type = st.n_gqa >= 4 ? T::Q4_K : T::Q3_K;
        else if (ftype == F::MOSTLY_Q3_K_M) type = i < 2 ? T::Q5_K : T::Q4_K;
        else if (ftype == F::MOSTLY_Q3_K_L) type = T::Q5_K;
        else if ((ftype == F::MOSTLY_Q4_K_M || ftype == F::MOSTLY_Q5_K_M) && use_more_bits(i, st.n_attention_wv))
            type = T::Q6_K;
        else if (ftype == F::MOSTLY_Q4_K_S && i < 4) type = T::Q5_K;
        else if ((ftype == F::MOSTLY_IQ4_NL || ftype == F::MOSTLY_IQ4_XS) && st.n_gqa >= 4) type = T::Q5_K;
    } else if (contains(name, "ffn_down")) {
        const int i = st.i_ffn_down++, n = st.n_ffn_down;
        if (ftype == F::MOSTLY_Q2_K) type = T::Q3_K;
        else if (ftype == F::MOSTLY_Q3_K_M) type = i < n / 16 ? T::Q5_K : T::Q4_K;
        else if (ftype == F::MOSTLY_Q3_K_L) type = T::Q5_K;
        else if ((ftype == F::MOSTLY_Q4_K_M || ftype == F::MOSTLY_Q5_K_M) && use_more_bits(i, n)) type = T::Q6_K;
        else if (ftype == F::MOSTLY_Q4_K_S && i < n / 8) type = T::Q5_K;
    } else if (contains(name, "attn_output.weight")) {
        if (ftype == F::MOSTLY_Q2_K) type = T::Q3_K;
        else if (ftype == F::MOSTLY_Q3_K_M) type = T::Q4_K;
        else if (ftype == F::MOSTLY_Q3_K_L) type = T::Q5_K;
    }
    return type;
}

const std::vector<FileTypePreset> kPresets = {
    {F::ALL_F32, "F32", T::F32},          {F::MOSTLY_F16, "F16", T::F16},
    {F::MOSTLY_BF16, "BF16", T::BF16},    {F::MOSTLY_Q4_0, "Q4_0", T::Q4_0},
    {F::MOSTLY_Q4_1, "Q4_1", T::Q4_1},    {F::MOSTLY_Q5_0, "Q5_0", T::Q5_0},
    {F::MOSTLY_Q5_1, "Q5_1", T::Q5_1},    {F::MOSTLY_Q8_0, "Q8_0", T::Q8_0},
    {F::MOSTLY_Q2_K, "Q2_K", T::Q2_K},    {F::MOSTLY_Q3_K_S, "Q3_K_S", T::Q3_K},
    {F::MOSTLY_Q3_K_M, "Q3_K_M", T::Q3_K}, {F::MOSTLY_Q3_K_L, "Q3_K_L", T::Q3_K},
    {F::MOSTLY_Q4_K_S, "Q4_K_S", T::Q4_K}, {F::MOSTLY_Q4_K_M, "Q4_K_M", T::Q4_K},
    {F::MOSTLY_Q5_K_S, "Q5_K_S", T::Q5_K}, {F::MOSTLY_Q5_K_M, "Q5_K_M", T::Q5_K},
    {F::MOSTLY_Q6_K, "Q6_K", T::Q6_K},    {F::MOSTLY_IQ4_NL, "IQ4_NL", T::IQ4_NL},
    {F::MOSTLY_IQ4_XS, "IQ4_XS", T::IQ4_XS}, {F::MOSTLY_TQ1_0, "TQ1_0", T::TQ1_0},
    {F::MOSTLY_TQ2_0, "TQ2_0", T::TQ2_0},
};

}  // namespace

const std::vector<FileTypePreset>& file_type_presets() { return kPresets; }

std::optional<FileTypePreset> file_type_preset(std::string_view name) {
    uint32_t id = 0;
    const auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
    const bool numeric = ec == std::errc() && ptr == name.data() + name.size();
    for (const auto& p : kPresets)
        if ((numeric && uint32_t(p.ftype) == id) || iequals(p.name, name)) return p;
    // "Q4_K" alone means Q4_K_M, "Q3_K" Q3_K_M, "Q5_K" Q5_K_M, as in llama-quantize.
    if (iequals(name, "Q3_K")) return file_type_preset("Q3_K_M");
    if (iequals(name, "Q4_K")) return file_type_preset("Q4_K_M");
    if (iequals(name, "Q5_K")) return file_type_preset("Q5_K_M");
    return std::nullopt;
}

bool is_quantizable_tensor(const PlanTensor& t, const PlanOptions& options) {
    const std::string_view name = t.name;
    uint32_t dims = 1;  // ggml_n_dims: index of the last dim > 1, plus one
    for (uint32_t i = 0; i < 4; ++i)
        if (t.ne[i] > 1) dims = i + 1;
    if (dims < 2 || !ends_with(name, "weight") || contains(name, "_norm.weight")) return false;
    if (options.leave_output && name == "output.weight") return false;
    for (std::string_view skip : {"ffn_gate_inp.weight", "position_embd", "token_types", "ssm_conv1d",
                                  "shortconv.conv.weight", "attn_rel_b.weight", "time_mix_first.weight",
                                  "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight",
                                  "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight",
                                  "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight",
                                  "time_mix_g1.weight", "time_mix_g2.weight", "time_mix_decay_w1.weight",
                                  "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight", "altup", "laurel",
                                  "per_layer_model_proj"})
        if (contains(name, skip)) return false;
    return true;
}

std::vector<size_t> visit_order(const std::vector<PlanTensor>& tensors) {
    std::vector<size_t> order(tensors.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        const int la = block_number(tensors[a].name), lb = block_number(tensors[b].name);
        if (la != lb) return la < lb;
        return tensors[a].name < tensors[b].name;
    });
    return order;
}

std::vector<GgmlType> plan_tensor_types(const std::vector<PlanTensor>& tensors, const FileTypePreset& preset,
                                        const ModelFacts& facts, const PlanOptions& options) {
    MixState st;
    bool has_output = false;
    for (const auto& t : tensors) {
        if (is_attn_v_like(t.name)) ++st.n_attention_wv;
        if (contains(t.name, "ffn_down")) ++st.n_ffn_down;
        if (t.name == "output.weight") has_output = true;
    }
    if (facts.n_head && facts.n_head_kv) st.n_gqa = int(facts.n_head / facts.n_head_kv);
    const bool mix = !options.pure && ggml_type_info(preset.default_type).block_size > 1;

    std::vector<GgmlType> out(tensors.size());
    for (size_t index : visit_order(tensors)) {
        const PlanTensor& t = tensors[index];
        if (!is_quantizable_tensor(t, options)) {
            out[index] = t.current;
            continue;
        }
        T type = mix ? mixed_type(t, preset.ftype, preset.default_type, has_output, st) : preset.default_type;
        if (options.token_embedding_type && t.name == "token_embd.weight") type = *options.token_embedding_type;
        if (options.output_type && t.name == "output.weight") type = *options.output_type;
        out[index] = shape_fallback(type, t.ne[0]);
    }
    return out;
}

}  // namespace llcuda::quant
