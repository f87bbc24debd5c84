// PEFT LoRA adapters (docs/checkpoint-formats.md §PEFT LoRA adapters, §llama.cpp LoRA GGUF): adapter_config.json + adapter_model.safetensors,
// resolved per target module to (A [r, in], B [out, r], scale).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "convert/safetensors.h"

namespace llcuda::convert {

struct LoraModule {
    std::string module;        // base module path, e.g. "model.layers.0.self_attn.q_proj"
    const StTensor* a = nullptr;  // [r, in] (embedding: lora_embedding_A [r, num_embeddings])
    const StTensor* b = nullptr;  // [out, r] (embedding: lora_embedding_B [dim, r])
    bool embedding = false;    // delta is (B·A)ᵀ, added to the [num_embeddings, dim] table
    uint32_t r = 0;
    float alpha = 0;           // the module's lora_alpha (alpha_pattern applied)
    float scale = 0;           // alpha / r, or alpha / sqrt(r) with use_rslora
};

class LoraAdapter {
public:
    static LoraAdapter open(const std::filesystem::path& dir);

    // Keyed by the base weight name ("model.layers.0.self_attn.q_proj.weight").
    const std::map<std::string, LoraModule>& modules() const { return modules_; }
    float default_alpha() const { return alpha_; }
    bool fan_in_fan_out() const { return fan_in_fan_out_; }

    // delta = scale · B·A as [out, in] row-major float32 (transposed for embeddings/fan_in_fan_out).
    std::vector<float> delta(const LoraModule& m) const;
    // Adds the delta to `weight` ([rows, cols] as the base stores it); FormatError naming the module
    // when the shapes do not match.
    void merge_into(const LoraModule& m, std::vector<float>& weight, uint64_t rows, uint64_t cols) const;

private:
    SafetensorsSet st_;
    std::map<std::string, LoraModule> modules_;
    float alpha_ = 0;
    bool fan_in_fan_out_ = false;
};

}  // namespace llcuda::convert
