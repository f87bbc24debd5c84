// Size planning without quantizing: the exact tensor bytes a preset would produce (through the
// same mix planner `llcuda quantize` uses), a KV-cache estimate, and the best preset for a memory
// budget. Used by `llcuda quantize --dry-run`.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "llcuda/gguf.h"
#include "quant/mixes.h"

namespace llcuda::quant {

// Tensors of a GGUF as the planner sees them (shape and current type).
std::vector<PlanTensor> plan_tensors_of(const GgufContents& contents);
ModelFacts model_facts_of(const GgufContents& contents);

// Sum of the tensor data bytes after quantizing with `preset` (no alignment padding).
uint64_t planned_weight_bytes(const GgufContents& contents, const FileTypePreset& preset, const PlanOptions& options);

// K and V caches for n_ctx positions in every layer: n_layer * n_ctx * n_head_kv *
// (key_length + value_length) elements of kv_type. An upper bound for sliding-window layers.
uint64_t kv_cache_bytes(const GgufContents& contents, uint32_t n_ctx, GgmlType kv_type);

struct PresetFit {
    FileTypePreset preset;
    uint64_t weight_bytes = 0;
    double bits_per_weight = 0;
    uint64_t total_bytes = 0;  // weights + KV cache + overhead
    bool fits = false;
};

// Every producible preset (largest first) with its footprint for the given budget.
std::vector<PresetFit> fit_presets(const GgufContents& contents, uint64_t budget_bytes, uint32_t n_ctx,
                                   GgmlType kv_type, uint64_t overhead_bytes);
// The highest-precision preset that fits, if any.
std::optional<PresetFit> recommend_preset(const std::vector<PresetFit>& fits);

}  // namespace llcuda::quant
