// Importance-matrix files as llama-imatrix writes them (docs/block-formats.md §Importance matrix): the GGUF form
// (general.type "imatrix", tensors <name>.in_sum2 and <name>.counts) and the legacy .dat form.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace llcuda::quant {

struct ImportanceMatrix {
    std::map<std::string, std::vector<float>> values;  // weight name -> per-column mean sq. activation
    std::vector<std::string> datasets;
    uint32_t chunk_count = 0;
};

// Reads either format (detected from the GGUF magic). Throws llcuda::Error on malformed files.
ImportanceMatrix load_imatrix(const std::filesystem::path& path);

}  // namespace llcuda::quant
