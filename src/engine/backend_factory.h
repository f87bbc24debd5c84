// Chooses and builds the compute backend for a loaded model: CUDA when asked for (an error naming
// the reason when it cannot be used) or, under Auto, when a usable GPU is present; else the CPU.
#pragma once

#include <memory>

#include "backend/compute_backend.h"
#include "kv/kv_blocks.h"
#include "kv/kv_pool_size.h"
#include "llcuda/engine.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace llcuda {

// The backend a load will use: Cpu or Cuda. Auto becomes Cuda when a usable GPU is present (a CUDA
// build, a driver, compute capability >= 7.5), else Cpu; Cuda that cannot be used throws
// Unsupported naming the reason (the CPU is never chosen silently).
Backend resolve_backend(Backend requested);

// Builds the resolved backend (Cpu or Cuda). size_kv_pool (CUDA only, may be empty): the pool is
// sized by it once the weights and fixed buffers are on the device (kv.n_blocks is then only the
// minimum checked up front); see kv/kv_pool_size.h.
std::unique_ptr<ComputeBackend> make_backend(Backend backend, const ModelConfig& config, const ModelWeights& weights,
                                             const KvCacheShape& kv, const LoadOptions& options,
                                             uint32_t max_step_tokens, uint32_t max_logit_rows,
                                             const KvPoolSizer& size_kv_pool = {});

}  // namespace llcuda
