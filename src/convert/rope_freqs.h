// Tensors the converter generates rather than copies: Llama 3's `rope_freqs.weight`, the per
// frequency divisors of rope_scaling {"rope_type": "llama3"} (docs/checkpoint-formats.md §Hyperparameters).
#pragma once

#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

namespace llcuda::convert {

// head_dim/2 factors when config.json asks for llama3 rope scaling, else nullopt.
std::optional<std::vector<float>> llama3_rope_factors(const nlohmann::json& config, uint32_t head_dim);

}  // namespace llcuda::convert
