// The built-in default model: SmolLM2-135M-Instruct, fetched by scripts/fetch-models.sh.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include "llcuda/error.h"

namespace llcuda::cli {

inline std::filesystem::path default_model_path() {
    std::filesystem::path cache;
    if (const char* env = std::getenv("LLCUDA_MODEL_CACHE")) {
        cache = env;
    } else {
        const char* home = std::getenv("HOME");
        cache = std::filesystem::path(home ? home : "/tmp") / ".cache" / "llcuda" / "models";
    }
    return cache / "SmolLM2-135M-Instruct.Q4_1.gguf";
}

// `requested` if given, else the default model (with a hint when it has not been fetched).
inline std::filesystem::path resolve_model(const std::string& requested) {
    if (!requested.empty()) return requested;
    const auto path = default_model_path();
    if (!std::filesystem::exists(path)) {
        throw Error(ErrorKind::NotFound, "no model given (-m) and the default model " + path.string() +
                                             " is missing; fetch it with scripts/fetch-models.sh smollm2");
    }
    return path;
}

}  // namespace llcuda::cli
