// Chooses and builds the compute backend for a loaded model: CUDA when asked for (an error naming
// the reason when it cannot be used) or, under Auto, when a usable GPU is present; else the CPU.
#pragma once

#include <memory>

#include "backend/compute_backend.h"
#include "kv/kv_blocks.h"
#include "llcuda/engine.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace llcuda {

// True when a CUDA backend could be made here (a CUDA build and a usable GPU).
bool cuda_usable();

std::unique_ptr<ComputeBackend> make_backend(const ModelConfig& config, const ModelWeights& weights,
                                             const KvCacheShape& kv, const LoadOptions& options,
                                             uint32_t max_step_tokens, uint32_t max_logit_rows);

}  // namespace llcuda
