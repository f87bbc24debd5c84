// What `llcuda inspect` shows about a GGUF file beyond its raw metadata: display and JSON forms of
// metadata values, and a model summary (totals, per-type breakdown, the architecture's
// hyperparameters and the tokenizer) read from well-known keys.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

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

struct TypeTotals {
    uint64_t n_tensors = 0;
    uint64_t n_elements = 0;
    uint64_t n_bytes = 0;
};

struct ModelSummary {
    std::string architecture;                 // general.architecture, "" when absent
    std::string name;                         // general.name
    std::optional<uint32_t> file_type;        // general.file_type
    // Hyperparameters under "{arch}.": label -> displayed value, in a fixed order.
    std::vector<std::pair<std::string, std::string>> hyperparameters;
    // Tokenizer: model, pre-tokenizer, vocab size, special token ids and texts, template present.
    std::vector<std::pair<std::string, std::string>> tokenizer;
    bool has_chat_template = false;

    uint64_t n_parameters = 0;                // sum of tensor elements
    uint64_t n_tensor_bytes = 0;              // sum of tensor data bytes (without padding)
    double bits_per_weight = 0;               // 8 * bytes / parameters
    std::map<std::string, TypeTotals> by_type;  // ggml type name -> totals
};

ModelSummary summarize_model(const GgufContents& contents);

}  // namespace llcuda
