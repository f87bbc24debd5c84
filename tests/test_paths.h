// Where tests find their inputs: golden files in the repository, the repository's test data
// (tests/data, unpacked by the build) and the real models that scripts/fetch-models.sh puts in the
// model cache.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "llcuda/model_cache.h"

namespace llcuda::test {

inline std::filesystem::path source_dir() { return LLCUDA_SOURCE_DIR; }
inline std::filesystem::path golden_dir() { return LLCUDA_GOLDEN_DIR; }

// tests/data/*.tar.xz unpacked and checked against tests/data/SHA256SUMS into <build>/test-data
// (scripts/prepare-test-data.sh, run by the build before any test program is linked).
inline std::filesystem::path test_data_dir() { return LLCUDA_TEST_DATA_DIR; }

// The real models fetched by scripts/fetch-models.sh (llcuda/model_cache.h).
inline std::filesystem::path model_cache_dir() { return llcuda::model_cache_dir(); }
inline std::filesystem::path smollm2_path() { return llcuda::default_model_path(); }
inline std::filesystem::path gemma3_path() { return model_cache_dir() / "gemma-3-270m-q4_k_m.gguf"; }

// CI sets LLCUDA_REQUIRE_MODELS=1: a missing model is then a failure, not a skip.
#define LLCUDA_REQUIRE_FILE(path)                                                                   \
    do {                                                                                            \
        if (!std::filesystem::exists(path)) {                                                       \
            const char* required = std::getenv("LLCUDA_REQUIRE_MODELS");                            \
            if (required && std::string(required) == "1") FAIL() << "missing test input " << (path); \
            GTEST_SKIP() << "missing test input " << (path) << " (run scripts/fetch-models.sh)";     \
        }                                                                                           \
    } while (0)

// The repository carries its test data, so a missing file is always a failure, never a skip.
#define LLCUDA_REQUIRE_TEST_DATA(path)                                                              \
    do {                                                                                            \
        if (!std::filesystem::exists(path))                                                         \
            FAIL() << "missing test data " << (path)                                                \
                   << " (unpacked from tests/data by the build; run scripts/prepare-test-data.sh)"; \
    } while (0)

}  // namespace llcuda::test
