#include "convert/out_type.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "llcuda/error.h"

namespace llcuda::convert {

OutType parse_out_type(const std::string& requested, bool bf16) {
    OutType o;
    o.name = requested;
    std::transform(o.name.begin(), o.name.end(), o.name.begin(), [](unsigned char c) { return char(std::toupper(c)); });
    if (o.name == "AUTO") o.name = bf16 ? "BF16" : "F16";
    if (o.name == "F32") { o.base = GgmlType::F32; o.file_type = 0; return o; }
    if (o.name == "F16") { o.base = GgmlType::F16; o.file_type = 1; return o; }
    if (o.name == "BF16") { o.base = GgmlType::BF16; o.file_type = 32; return o; }
    if (o.name == "Q8_0") { o.base = GgmlType::Q8_0; o.file_type = 7; return o; }
    o.preset = quant::file_type_preset(o.name);
    if (!o.preset) {
        std::string known = "F32, F16, BF16, Q8_0, auto";
        for (const auto& p : quant::file_type_presets()) {
            if (std::string(p.name) != "F16" && std::string(p.name) != "BF16" && std::string(p.name) != "Q8_0" &&
                std::string(p.name) != "F32")
                known += std::string(", ") + p.name;
        }
        throw Error(ErrorKind::InvalidArgument, fmt::format("unknown output type '{}' (known: {})", requested, known));
    }
    o.base = GgmlType::F16;
    o.file_type = uint32_t(o.preset->ftype);
    return o;
}

bool forced_f32(const std::string& name, size_t n_dims) {
    if (n_dims <= 1) return true;
    if (name.ends_with("_norm.weight")) return true;
    return !name.ends_with(".weight");
}

std::vector<GgmlType> plan_types(const std::vector<PlannedTensor>& tensors, const OutType& out,
                                 const quant::ModelFacts& facts) {
    std::vector<GgmlType> types(tensors.size());
    std::vector<quant::PlanTensor> plan(tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
        const auto& t = tensors[i];
        GgmlType type = out.base;
        if (forced_f32(t.name, t.ne.size())) type = GgmlType::F32;
        // Rows that are not whole blocks fall back to F16 (the converter's rule for Q8_0).
        const auto& info = ggml_type_info(type);
        if (t.ne[0] % info.block_size != 0) type = GgmlType::F16;
        types[i] = type;
        plan[i].name = t.name;
        plan[i].n_dims = uint32_t(t.ne.size());
        for (size_t d = 0; d < t.ne.size() && d < 4; ++d) plan[i].ne[d] = t.ne[d];
        plan[i].current = type;
    }
    if (out.preset) types = quant::plan_tensor_types(plan, *out.preset, facts, {});
    return types;
}

}  // namespace llcuda::convert
