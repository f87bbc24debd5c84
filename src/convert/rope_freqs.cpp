// Llama 3 rope scaling: frequencies whose wavelength exceeds original_context/low_freq_factor are
// slowed by `factor`, those shorter than original_context/high_freq_factor kept, the band between
// interpolated smoothly. llama.cpp divides each frequency by the stored factor at runtime.
#include "convert/rope_freqs.h"

#include <cmath>

#include "convert/hf_arch.h"

namespace llcuda::convert {

std::optional<std::vector<float>> llama3_rope_factors(const nlohmann::json& config, uint32_t head_dim) {
    const nlohmann::json* rs = nullptr;
    if (config.contains("rope_scaling") && config["rope_scaling"].is_object()) rs = &config["rope_scaling"];
    else if (config.contains("rope_parameters") && config["rope_parameters"].is_object()) rs = &config["rope_parameters"];
    if (!rs || rs->value("rope_type", rs->value("type", std::string())) != "llama3") return std::nullopt;
    const nlohmann::json* theta = config_find(config, "rope_theta");
    const double base = theta && theta->is_number() ? theta->get<double>() : 10000.0;
    auto num = [&](const char* key, double fallback) {
        return rs->contains(key) && (*rs)[key].is_number() ? (*rs)[key].get<double>() : fallback;
    };
    const double factor = num("factor", 8.0), low = num("low_freq_factor", 1.0), high = num("high_freq_factor", 4.0);
    const double old_ctx = num("original_max_position_embeddings", 8192.0);
    const double low_wavelen = old_ctx / low, high_wavelen = old_ctx / high;
    std::vector<float> factors;  // [head_dim / 2]
    for (uint32_t i = 0; i < head_dim; i += 2) {
        // float32 frequencies as the reference computes them with torch.
        const float freq = 1.0f / float(std::pow(base, double(float(i) / float(head_dim))));
        const double wavelen = 2.0 * M_PI / double(freq);
        if (wavelen < high_wavelen) factors.push_back(1.0f);
        else if (wavelen > low_wavelen) factors.push_back(float(factor));
        else {
            const double smooth = (old_ctx / wavelen - low) / (high - low);
            factors.push_back(float(1.0 / ((1.0 - smooth) / factor + smooth)));
        }
    }
    return factors;
}

}  // namespace llcuda::convert
