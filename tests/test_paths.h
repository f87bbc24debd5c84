// Where tests find their inputs: golden files in the repository, shared data beside it, and the
// real models that scripts/fetch-models.sh puts in the model cache.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "llcuda/model_cache.h"

namespace llcuda::test {

inline std::filesystem::path source_dir() { return LLCUDA_SOURCE_DIR; }
inline std::filesystem::path golden_dir() { return LLCUDA_GOLDEN_DIR; }

// ../shared/data next to the checkout, or $LLCUDA_SHARED_DATA.
inline std::filesystem::path shared_data_dir() {
    if (const char* env = std::getenv("LLCUDA_SHARED_DATA")) return env;
    return source_dir().parent_path() / "shared" / "data";
}

// The real models fetched by scripts/fetch-models.sh (llcuda/model_cache.h).
inline std::filesystem::path model_cache_dir() { return llcuda::model_cache_dir(); }
inline std::filesystem::path smollm2_path() { return llcuda::default_model_path(); }
inline std::filesystem::path gemma3_path() { return llcuda::gemma3_test_model_path(); }

// CI sets LLCUDA_REQUIRE_MODELS=1: a missing model is then a failure, not a skip.
#define LLCUDA_REQUIRE_FILE(path)                                                                   \
    do {                                                                                            \
        if (!std::filesystem::exists(path)) {                                                       \
            const char* required = std::getenv("LLCUDA_REQUIRE_MODELS");                            \
            if (required && std::string(required) == "1") FAIL() << "missing test input " << (path); \
            GTEST_SKIP() << "missing test input " << (path) << " (run scripts/fetch-models.sh)";     \
        }                                                                                           \
    } while (0)

}  // namespace llcuda::test
