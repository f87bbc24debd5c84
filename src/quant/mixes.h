// llama-quantize's file types ("Q4_K_M", ...) and the per-tensor type rules that mix them
// (docs/quant-mixes.md). The planner is pure: given tensor names, shapes and a few model facts it
// returns the ggml type of every tensor, so it can be checked against files llama-quantize made.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llcuda/ggml_type.h"

namespace llcuda::quant {

// llama_ftype ids (general.file_type) of the presets we can produce.
enum class FileType : uint32_t {
    ALL_F32 = 0, MOSTLY_F16 = 1, MOSTLY_Q4_0 = 2, MOSTLY_Q4_1 = 3, MOSTLY_Q8_0 = 7, MOSTLY_Q5_0 = 8,
    MOSTLY_Q5_1 = 9, MOSTLY_Q2_K = 10, MOSTLY_Q3_K_S = 11, MOSTLY_Q3_K_M = 12, MOSTLY_Q3_K_L = 13,
    MOSTLY_Q4_K_S = 14, MOSTLY_Q4_K_M = 15, MOSTLY_Q5_K_S = 16, MOSTLY_Q5_K_M = 17, MOSTLY_Q6_K = 18,
    MOSTLY_IQ4_NL = 25, MOSTLY_IQ4_XS = 30, MOSTLY_BF16 = 32, MOSTLY_TQ1_0 = 36, MOSTLY_TQ2_0 = 37,
};

struct FileTypePreset {
    FileType ftype;
    const char* name;       // as llama-quantize spells it: "Q4_K_M"
    GgmlType default_type;  // the type most tensors get
};

// Case-insensitive; also accepts the numeric ftype id. nullopt when unknown or not producible.
std::optional<FileTypePreset> file_type_preset(std::string_view name);
const std::vector<FileTypePreset>& file_type_presets();

// One tensor as the planner sees it.
struct PlanTensor {
    std::string name;
    uint32_t n_dims = 0;
    std::array<uint64_t, 4> ne{1, 1, 1, 1};
    GgmlType current = GgmlType::F32;
};

struct PlanOptions {
    bool pure = false;                          // --pure: no per-tensor mix rules
    std::optional<GgmlType> output_type;        // --output-tensor-type
    std::optional<GgmlType> token_embedding_type;  // --token-embedding-type
    bool leave_output = false;                  // --leave-output-tensor
};

struct ModelFacts {
    std::string arch;            // general.architecture
    uint32_t n_layer = 0;        // {arch}.block_count
    uint32_t n_head = 0;         // {arch}.attention.head_count (0: unknown)
    uint32_t n_head_kv = 0;      // {arch}.attention.head_count_kv (0: = n_head)
    uint32_t n_expert = 0;       // {arch}.expert_count
};

// Whether llama-quantize would quantize this tensor at all (docs/quant-mixes.md §Pipeline, step 3).
bool is_quantizable_tensor(const PlanTensor& tensor, const PlanOptions& options);

// The loader's visit order (docs/quant-mixes.md §Pipeline, step 2): non-block tensors first, then by block
// number, then by name. Returns indices into `tensors`.
std::vector<size_t> visit_order(const std::vector<PlanTensor>& tensors);

// Target type of every tensor (indexed like `tensors`), applying the preset's mix rules,
// overrides and the shape fallback. Tensors that are not quantizable keep their type.
std::vector<GgmlType> plan_tensor_types(const std::vector<PlanTensor>& tensors, const FileTypePreset& preset,
                                        const ModelFacts& facts, const PlanOptions& options);

}  // namespace llcuda::quant
