// What `llcuda inspect` reports about a GGUF model beyond the raw metadata: totals, a per-type
// breakdown, the architecture's hyperparameters and the tokenizer, read from well-known keys.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "llcuda/gguf.h"

namespace llcuda {

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
