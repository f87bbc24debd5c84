// VRAM planner: which quantization and KV-cache type to use, and how much context fits, for a model
// on a GPU with a given amount of memory (docs/planner.md). The one planner: `llcuda recommend` and
// `llcuda quantize --dry-run` both print what it returns.
//
// The weight sizes of a real GGUF model are exact: every preset is planned tensor by tensor with the
// same per-tensor rules `llcuda quantize` applies. Without a model file (`n_params` only), sizes come
// from the presets' nominal bits per weight and a Llama-shaped architecture of that size.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llcuda {

enum class PlanStrategy {
    Aggressive,  // favour context: at most Q4_K_M weights, q8_0 KV cache
    Balanced,    // at most Q6_K weights, f16 KV cache when it fits
    Quality,     // the highest precision that fits
    Minimal,     // the smallest footprint
};

// "aggressive", "balanced", "quality", "minimal"; throws InvalidArgument naming the choices otherwise.
PlanStrategy plan_strategy_from_name(std::string_view name);
const char* plan_strategy_name(PlanStrategy strategy);

struct PlanRequest {
    std::optional<std::filesystem::path> model;  // a GGUF file, or
    uint64_t n_params = 0;                       // a parameter count
    double vram_gib = 0;                         // memory budget (GiB)
    uint32_t context = 4096;                     // context wanted per sequence
    uint32_t parallel = 1;                       // sequences served at once
    PlanStrategy strategy = PlanStrategy::Balanced;
};

struct PlanCandidate {
    std::string type;                // llama-quantize preset name: "Q4_K_M", "Q8_0", "F16", ...
    uint64_t weight_bytes = 0;
    double bits_per_weight = 0;
    bool fits = false;               // weights + KV(context, parallel) + workspace <= budget, f16 or q8_0 KV
    uint32_t max_context_f16 = 0;    // largest context per sequence that fits with an f16 KV cache (0: none)
    uint32_t max_context_q8_0 = 0;   // ... with a q8_0 KV cache
};

struct GpuSpeedEstimate {
    std::string gpu;
    double bandwidth_gb_s = 0;       // memory bandwidth (GB/s)
    double roofline_tok_s = 0;       // decode ceiling: bandwidth / bytes read per token
};

struct Plan {
    std::string model_name;
    uint64_t n_params = 0;
    uint64_t budget_bytes = 0;
    uint64_t kv_bytes_per_token_f16 = 0;   // all layers, K and V, one sequence (llcuda/kv_size.h)
    uint64_t kv_bytes_per_token_q8_0 = 0;
    uint64_t workspace_bytes = 0;          // CUDA context, activations, logits: an allowance
    uint64_t cuda_context_bytes = 0;       // the part of workspace_bytes for the CUDA context itself
    std::vector<PlanCandidate> candidates; // highest precision first
    // The recommendation; empty type when nothing fits.
    std::string recommended_type;
    std::string recommended_kv_type;       // "f16" or "q8_0"
    uint32_t recommended_context = 0;      // largest context per sequence that fits with it
    uint64_t recommended_total_bytes = 0;  // weights + KV at the requested context + workspace
    double compression_vs_f16 = 0;         // F16 weight bytes / recommended weight bytes
    std::vector<GpuSpeedEstimate> speed;   // decode ceilings for the recommendation on known GPUs
    bool exact_sizes = false;              // true when planned from a GGUF file
};

// Throws InvalidArgument for a bad request (no model and no n_params, non-positive budget, ...).
Plan plan_deployment(const PlanRequest& request);

// The weight sizes alone, without a budget: every preset the planner offers for a GGUF model,
// highest precision first, planned exactly (the same numbers as plan_deployment's candidates).
struct PresetSize {
    std::string type;
    uint64_t weight_bytes = 0;
    double bits_per_weight = 0;
};
std::vector<PresetSize> plan_weight_sizes(const std::filesystem::path& model);

}  // namespace llcuda
