// Size planning without quantizing: the exact tensor bytes a preset would produce, through the
// same mix planner `llcuda quantize` uses. The VRAM planner (src/planner) builds on it; memory
// budgets and the KV cache are the planner's business (llcuda/planner.h, llcuda/kv_size.h).
#pragma once

#include <cstdint>
#include <vector>

#include "llcuda/gguf.h"
#include "quant/mixes.h"

namespace llcuda::quant {

// Tensors of a GGUF as the planner sees them (shape and current type).
std::vector<PlanTensor> plan_tensors_of(const GgufContents& contents);
ModelFacts model_facts_of(const GgufContents& contents);

// Sum of the tensor data bytes after quantizing with `preset` (no alignment padding).
uint64_t planned_weight_bytes(const GgufContents& contents, const FileTypePreset& preset, const PlanOptions& options);

}  // namespace llcuda::quant
