// Checks made before a model loads for `run` and `chat`: the memory the KV cache and buffers will
// take against the free RAM (CPU) or VRAM (CUDA), and the context against the training context, so
// that a request that cannot work is refused with numbers instead of being killed by the kernel.
// Also the facts the "what runs" line prints.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "llcuda/engine.h"

namespace llcuda::cli {

// Read from the GGUF metadata alone (no weights are touched); 0 / "" when the file lacks a key.
struct ModelFacts {
    std::string name, architecture, file_type;  // file_type as `inspect` names it ("Q4_K - Medium")
    uint32_t n_ctx_train = 0, n_layer = 0, n_embd = 0, n_ff = 0, n_head = 0, n_head_kv = 0;
    uint32_t head_dim_k = 0, head_dim_v = 0, n_vocab = 0;
    uint64_t n_parameters = 0, weight_bytes = 0;
};
ModelFacts read_model_facts(const std::filesystem::path& model);

struct MemoryEstimate {
    Backend backend = Backend::Cpu;  // the backend Auto resolves to here
    std::string device;              // "cpu" or the GPU's name
    uint32_t n_ctx = 0;              // the context the engine will use
    uint64_t kv_bytes_per_position = 0;
    uint64_t needed_bytes = 0;       // KV cache + buffers (+ weights on the GPU)
    uint64_t free_bytes = 0;         // MemAvailable, or the GPU's free memory
};

// Which backend and context `load` gives for this model, and the memory it will allocate.
MemoryEstimate estimate_memory(const ModelFacts& facts, const LoadOptions& load);

// Throws OutOfMemory when the estimate does not fit, naming both figures; throws InvalidArgument
// when the context exceeds 4x the training context (unless `force_ctx`). Returns warnings (one
// line each): a context beyond the training context, -ngl asking for part of the layers.
std::vector<std::string> check_before_load(const ModelFacts& facts, const MemoryEstimate& estimate, bool force_ctx,
                                           int64_t n_gpu_layers);

std::string format_bytes(uint64_t bytes);  // "4.6 GiB", "512.0 MiB"

}  // namespace llcuda::cli
