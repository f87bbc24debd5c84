// Where llcuda keeps downloaded models: $LLCUDA_MODEL_CACHE, else ~/.cache/llcuda/models.
// scripts/fetch-models.sh fills it; the CLI's built-in default model lives there (and the test models).
#pragma once

#include <cstdlib>
#include <filesystem>

namespace llcuda {

inline std::filesystem::path model_cache_dir() {
    if (const char* env = std::getenv("LLCUDA_MODEL_CACHE")) return env;
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home ? home : "/tmp") / ".cache" / "llcuda" / "models";
}

// The built-in default model (SmolLM2-135M-Instruct, Q4_1).
inline std::filesystem::path default_model_path() { return model_cache_dir() / "SmolLM2-135M-Instruct.Q4_1.gguf"; }

}  // namespace llcuda
