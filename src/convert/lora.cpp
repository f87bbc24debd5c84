// Reading PEFT adapters and computing their merged deltas in float32.
#include "convert/lora.h"

#include <cmath>
#include <regex>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "convert/metadata.h"
#include "llcuda/error.h"

namespace llcuda::convert {
namespace {

using json = nlohmann::json;

// PEFT matches rank_pattern / alpha_pattern keys against the module name as `(.*\.)?key$`.
const json* pattern_value(const json& patterns, const std::string& module) {
    if (!patterns.is_object()) return nullptr;
    for (const auto& [key, value] : patterns.items()) {
        try {
            if (std::regex_match(module, std::regex("(.*\\.)?(" + key + ")"))) return &value;
        } catch (const std::regex_error&) {
            if (module == key || module.ends_with("." + key)) return &value;
        }
    }
    return nullptr;
}

}  // namespace

LoraAdapter LoraAdapter::open(const std::filesystem::path& dir) {
    const json cfg = read_json_file(dir / "adapter_config.json");
    if (cfg.value("peft_type", std::string("LORA")) != "LORA")
        throw Error(ErrorKind::Unsupported, fmt::format("adapter peft_type '{}' (only LORA)", cfg.value("peft_type", "")));
    if (cfg.value("use_dora", false))
        throw Error(ErrorKind::Unsupported, "DoRA adapters (use_dora) are not a plain additive merge: not supported");
    if (cfg.value("lora_bias", false)) throw Error(ErrorKind::Unsupported, "adapters with lora_bias are not supported");
    if (cfg.contains("modules_to_save") && cfg["modules_to_save"].is_array() && !cfg["modules_to_save"].empty())
        throw Error(ErrorKind::Unsupported, "adapters with modules_to_save are not supported yet");
    LoraAdapter a;
    const uint32_t r_default = cfg.value("r", 8u);
    a.alpha_ = cfg.contains("lora_alpha") && cfg["lora_alpha"].is_number() ? cfg["lora_alpha"].get<float>() : 8.0f;
    const bool rslora = cfg.value("use_rslora", false);
    a.fan_in_fan_out_ = cfg.value("fan_in_fan_out", false);
    const auto file = dir / "adapter_model.safetensors";
    if (!std::filesystem::exists(file))
        throw Error(ErrorKind::NotFound, fmt::format("{}: adapter_model.safetensors not found (.bin adapters are not supported)",
                                                     dir.string()));
    a.st_ = SafetensorsSet::open_file(file);
    const std::string prefix = "base_model.model.";
    for (const auto& name : a.st_.names()) {
        std::string module;
        bool emb = false;
        if (name.ends_with(".lora_A.weight")) module = name.substr(0, name.size() - 14);
        else if (name.ends_with(".lora_embedding_A")) { module = name.substr(0, name.size() - 17); emb = true; }
        else if (name.ends_with(".lora_B.weight") || name.ends_with(".lora_embedding_B")) continue;
        else throw Error(ErrorKind::Unsupported, fmt::format("adapter tensor '{}' is not a LoRA A/B matrix", name));
        if (module.starts_with(prefix)) module = module.substr(prefix.size());
        LoraModule m;
        m.module = module;
        m.embedding = emb;
        m.a = &a.st_.at(name);
        const std::string bname = name.substr(0, name.size() - (emb ? 1 : 8)) + (emb ? "B" : "B.weight");
        m.b = a.st_.find(bname);
        if (!m.b) throw Error(ErrorKind::FormatError, fmt::format("adapter has '{}' but no '{}'", name, bname));
        if (m.a->shape.size() != 2 || m.b->shape.size() != 2 || m.a->shape[0] != m.b->shape[1])
            throw Error(ErrorKind::FormatError, fmt::format("adapter module '{}': A {} and B {} do not chain", module,
                                                            fmt::join(m.a->shape, "x"), fmt::join(m.b->shape, "x")));
        m.r = r_default;
        // (patterns are read in place: a pointer into a temporary copy would dangle)
        if (const json* v = cfg.contains("rank_pattern") ? pattern_value(cfg["rank_pattern"], module) : nullptr)
            m.r = v->get<uint32_t>();
        m.alpha = a.alpha_;
        if (const json* v = cfg.contains("alpha_pattern") ? pattern_value(cfg["alpha_pattern"], module) : nullptr)
            m.alpha = v->get<float>();
        if (m.r != m.a->shape[0])
            throw Error(ErrorKind::FormatError, fmt::format("adapter module '{}': rank {} in the config, {} in the tensors",
                                                            module, m.r, m.a->shape[0]));
        m.scale = rslora ? m.alpha / std::sqrt(float(m.r)) : m.alpha / float(m.r);
        a.modules_.emplace(module + ".weight", m);
    }
    if (a.modules_.empty()) throw Error(ErrorKind::FormatError, fmt::format("{}: adapter has no LoRA tensors", file.string()));
    return a;
}

std::vector<float> LoraAdapter::delta(const LoraModule& m) const {
    const std::vector<float> A = read_f32(*m.a);  // [r, in]
    const std::vector<float> B = read_f32(*m.b);  // [out, r]
    const uint64_t r = m.a->shape[0], in = m.a->shape[1], out = m.b->shape[0];
    std::vector<float> d(out * in, 0.0f);         // [out, in]
    for (uint64_t o = 0; o < out; ++o)
        for (uint64_t k = 0; k < r; ++k) {
            const float b = B[o * r + k] * m.scale;
            const float* arow = A.data() + k * in;
            float* drow = d.data() + o * in;
            for (uint64_t i = 0; i < in; ++i) drow[i] += b * arow[i];
        }
    if (!m.embedding && !fan_in_fan_out_) return d;
    std::vector<float> t(d.size());  // [in, out]
    for (uint64_t o = 0; o < out; ++o)
        for (uint64_t i = 0; i < in; ++i) t[i * out + o] = d[o * in + i];
    return t;
}

void LoraAdapter::merge_into(const LoraModule& m, std::vector<float>& w, uint64_t rows, uint64_t cols) const {
    uint64_t drows = m.b->shape[0], dcols = m.a->shape[1];
    if (m.embedding || fan_in_fan_out_) std::swap(drows, dcols);
    if (drows != rows || dcols != cols || w.size() != rows * cols)
        throw Error(ErrorKind::FormatError, fmt::format("LoRA module '{}' makes a {}x{} delta but the base weight is {}x{}",
                                                        m.module, drows, dcols, rows, cols));
    const std::vector<float> d = delta(m);
    for (size_t i = 0; i < w.size(); ++i) w[i] += d[i];
}

}  // namespace llcuda::convert
