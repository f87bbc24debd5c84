// Human- and machine-readable renderings of GGUF metadata, shared by `llcuda inspect` and tests.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "llcuda/gguf.h"

namespace llcuda {

// Display form of a value: strings quoted and cut after `max_chars`, arrays summarized as
// "[u32 × 1000] [1, 2, 3, ...]" showing at most `max_elements` elements.
std::string describe_value(const GgufValue& value, size_t max_elements = 8, size_t max_chars = 80);

// JSON form: scalars as JSON scalars; arrays as {"type", "count", "values"} with at most
// `max_elements` values (all of them when max_elements is SIZE_MAX).
nlohmann::json value_to_json(const GgufValue& value, size_t max_elements = 16);

// llama_ftype display name for general.file_type ("Q4_K - Medium"), or "unknown (N)".
std::string file_type_name(uint32_t file_type);

}  // namespace llcuda
