// The CUDA backend's factory, as plain C++ (no CUDA headers), for the engine to call.
#pragma once

#include <cstdint>
#include <memory>

#include "backend/compute_backend.h"
#include "kv/kv_blocks.h"
#include "kv/kv_pool_size.h"
#include "llcuda/engine.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace llcuda::cuda {

struct CudaBackendOptions {
    KvCacheType kv_type = KvCacheType::F16;
    uint32_t max_batch_tokens = 512;   // tokens of one forward pass at most
    uint32_t max_logit_rows = 512;     // logits rows of one forward pass at most
    bool use_graphs = true;            // capture decode steps as CUDA graphs and replay them
    // Keep an f16 copy of every quantized matrix on the device (attach_f16_copy): products of
    // many tokens (prompt chunks, large batches) skip the per-call dequantization, for ~2 bytes
    // a weight more memory. Allocated with the weights, before the KV pool is sized.
    bool f16_weight_copies = false;
    int device = 0;
    // When set, the KV pool is sized once the weights and fixed buffers are allocated: the block
    // count it returns for the memory then free replaces kv.n_blocks, which is only checked up front.
    KvPoolSizer size_kv_pool;
};

// Uploads the weights (quantized, as stored) and allocates the KV pools and scratch on the device
// (the pools last, sized by options.size_kv_pool when set).
// Throws Unsupported naming a tensor whose type has no kernel, OutOfMemory naming the bytes needed
// and the bytes free.
std::unique_ptr<ComputeBackend> make_cuda_backend(const ModelConfig& config, const ModelWeights& weights,
                                                  const KvCacheShape& kv, const CudaBackendOptions& options);

}  // namespace llcuda::cuda
