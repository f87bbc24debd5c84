// The built-in default model: SmolLM2-135M-Instruct, fetched by scripts/fetch-models.sh.
#pragma once

#include <filesystem>
#include <string>

#include "llcuda/error.h"
#include "llcuda/model_cache.h"

namespace llcuda::cli {

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
