// Choosing each output tensor's ggml type (docs/checkpoint-formats.md §Output types, docs/quant-mixes.md):
// F32/F16/BF16/Q8_0 follow convert_hf_to_gguf.py; llama-quantize presets (Q4_K_M, Q6_K, ...) go
// through the quant module's mix planner, as if an F16 conversion had been quantized.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "llcuda/ggml_type.h"
#include "quant/mixes.h"

namespace llcuda::convert {

struct OutType {
    std::string name;                 // as requested, upper case
    GgmlType base = GgmlType::F16;    // the converter-level type (F32/F16/BF16/Q8_0)
    std::optional<quant::FileTypePreset> preset;  // set for llama-quantize presets
    uint32_t file_type = 1;           // general.file_type
};

// `requested` "auto" picks BF16 if `first_2d_dtype_is_bf16`, else F16. InvalidArgument if unknown.
OutType parse_out_type(const std::string& requested, bool first_2d_dtype_is_bf16);

// True for tensors the converter always writes as F32 (1-D, norms, biases, non-.weight).
bool forced_f32(const std::string& gguf_name, size_t n_dims);

struct PlannedTensor {
    std::string name;
    std::vector<uint64_t> ne;  // ggml order
};

// Types for all tensors (same order). `facts` feed the mix rules (layer and head counts).
std::vector<GgmlType> plan_types(const std::vector<PlannedTensor>& tensors, const OutType& out,
                                 const quant::ModelFacts& facts);

}  // namespace llcuda::convert
