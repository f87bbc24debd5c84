// ggml tensor type ids and their block geometry, as stored in GGUF tensor infos.
//
// This is the size information every layer needs (the GGUF reader validates tensor byte sizes with
// it). Dequantizers and quantizers live in the quant module and are keyed by the same ids.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace llcuda {

// Values are the on-disk ids of `enum ggml_type`; gaps are ids ggml removed (invalid in files).
enum class GgmlType : uint32_t {
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
    Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
    IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
    IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
    TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39, NVFP4 = 40, Q1_0 = 41, Q2_0 = 42,
};

inline constexpr uint32_t kGgmlTypeCount = 43;  // first id past the table

struct GgmlTypeInfo {
    GgmlType type;
    const char* name;      // ggml_type_name spelling: "f32", "q4_K", "iq4_xs", ...
    uint32_t block_size;   // elements per block
    uint32_t type_size;    // bytes per block
};

// nullptr for ids that are out of range or were removed from ggml.
const GgmlTypeInfo* ggml_type_info(uint32_t id);
const GgmlTypeInfo& ggml_type_info(GgmlType type);
// Case-insensitive lookup by ggml name ("Q4_K", "q4_k", "bf16"); nullopt when unknown.
std::optional<GgmlType> ggml_type_from_name(std::string_view name);
inline const char* ggml_type_name(GgmlType type) { return ggml_type_info(type).name; }

// Bytes of `n_elements` consecutive elements; n_elements must be a whole number of blocks.
uint64_t ggml_row_bytes(GgmlType type, uint64_t n_elements);

}  // namespace llcuda
