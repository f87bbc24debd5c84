// Size planning (see size_plan.h).
#include "quant/size_plan.h"

#include <algorithm>

namespace llcuda::quant {
namespace {

uint32_t u32_or(const GgufContents& c, const std::string& key, uint32_t fallback) {
    const GgufValue* v = c.find(key);
    return v && v->type() == GgufType::UInt32 ? std::get<uint32_t>(v->storage()) : fallback;
}

}  // namespace

std::vector<PlanTensor> plan_tensors_of(const GgufContents& contents) {
    std::vector<PlanTensor> tensors;
    for (const auto& t : contents.tensors) tensors.push_back({t.name, t.n_dims, t.ne, t.type});
    return tensors;
}

ModelFacts model_facts_of(const GgufContents& c) {
    ModelFacts facts;
    facts.arch = c.get_string_or("general.architecture", "");
    facts.n_layer = u32_or(c, facts.arch + ".block_count", 0);
    facts.n_head = u32_or(c, facts.arch + ".attention.head_count", 0);
    facts.n_head_kv = u32_or(c, facts.arch + ".attention.head_count_kv", facts.n_head);
    facts.n_expert = u32_or(c, facts.arch + ".expert_count", 0);
    return facts;
}

uint64_t planned_weight_bytes(const GgufContents& contents, const FileTypePreset& preset, const PlanOptions& options) {
    const auto tensors = plan_tensors_of(contents);
    const auto types = plan_tensor_types(tensors, preset, model_facts_of(contents), options);
    uint64_t total = 0;
    for (size_t i = 0; i < tensors.size(); ++i) {
        const auto& t = tensors[i];
        total += ggml_row_bytes(types[i], t.ne[0]) * t.ne[1] * t.ne[2] * t.ne[3];
    }
    return total;
}

uint64_t kv_cache_bytes(const GgufContents& c, uint32_t n_ctx, GgmlType kv_type) {
    const ModelFacts f = model_facts_of(c);
    const uint32_t n_embd = u32_or(c, f.arch + ".embedding_length", 0);
    const uint32_t head_dim = f.n_head ? n_embd / f.n_head : 0;
    const uint64_t k_len = u32_or(c, f.arch + ".attention.key_length", head_dim);
    const uint64_t v_len = u32_or(c, f.arch + ".attention.value_length", head_dim);
    const uint64_t elements = uint64_t(f.n_layer) * n_ctx * f.n_head_kv * (k_len + v_len);
    const auto& info = ggml_type_info(kv_type);
    return elements / info.block_size * info.type_size;
}

std::vector<PresetFit> fit_presets(const GgufContents& contents, uint64_t budget_bytes, uint32_t n_ctx,
                                   GgmlType kv_type, uint64_t overhead_bytes) {
    uint64_t n_params = 0;
    for (const auto& t : contents.tensors) n_params += t.n_elements();
    const uint64_t kv = kv_cache_bytes(contents, n_ctx, kv_type);
    std::vector<PresetFit> fits;
    for (const auto& preset : file_type_presets()) {
        PresetFit f{preset};
        f.weight_bytes = planned_weight_bytes(contents, preset, {});
        f.bits_per_weight = n_params ? 8.0 * double(f.weight_bytes) / double(n_params) : 0.0;
        f.total_bytes = f.weight_bytes + kv + overhead_bytes;
        f.fits = f.total_bytes <= budget_bytes;
        fits.push_back(f);
    }
    std::stable_sort(fits.begin(), fits.end(),
                     [](const PresetFit& a, const PresetFit& b) { return a.weight_bytes > b.weight_bytes; });
    return fits;
}

std::optional<PresetFit> recommend_preset(const std::vector<PresetFit>& fits) {
    // Fits are sorted largest first; F32 is never worth its size for inference, skip it.
    for (const auto& f : fits)
        if (f.fits && f.preset.ftype != FileType::ALL_F32) return f;
    return std::nullopt;
}

}  // namespace llcuda::quant
