// Size planning (see size_plan.h).
#include "quant/size_plan.h"

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

}  // namespace llcuda::quant
