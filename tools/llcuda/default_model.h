// The model every command's -m goes through: a GGUF path, a hub name ("owner/repo:file.gguf", also
// given as -hf: hub_flags.h) or a well-known name, downloaded into the model cache when missing
// (llcuda/hub.h); no -m at all is the built-in default model, SmolLM2-135M-Instruct, fetched by
// scripts/fetch-models.sh.
#pragma once

#include <filesystem>
#include <string>

#include "download_progress.h"
#include "hub_flags.h"
#include "llcuda/error.h"
#include "llcuda/hub.h"
#include "llcuda/model_cache.h"

namespace llcuda::cli {

// `requested` resolved (path, hub name, well-known name), else the default model (with a hint when
// it has not been fetched).
inline std::filesystem::path resolve_model(const std::string& requested) {
    if (!requested.empty()) {
        hub::DownloadOptions options;
        if (offline_flag()) options.offline = true;
        options.progress = stderr_download_progress(requested);
        return hub::resolve_model_name(requested, options);
    }
    const auto path = default_model_path();
    if (!std::filesystem::exists(path)) {
        throw Error(ErrorKind::NotFound, "no model given (-m) and the default model " + path.string() +
                                             " is missing; fetch it with scripts/fetch-models.sh smollm2");
    }
    return path;
}

}  // namespace llcuda::cli
