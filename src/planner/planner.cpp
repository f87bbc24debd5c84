// The VRAM planner (llcuda/planner.h, docs/planner.md).
#include "llcuda/planner.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "llcuda/error.h"
#include "llcuda/gguf.h"
#include "llcuda/kv_size.h"
#include "planner/gpu_table.h"
#include "quant/size_plan.h"

namespace llcuda {

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr uint64_t kCudaContextBytes = 320ull << 20;  // context + cuBLAS handles, measured typical

// Nominal bits per weight of each preset on Llama-family models (llama.cpp's reported file sizes
// divided by parameters, 8B shape), used when there is no model file to plan exactly.
struct NominalPreset {
    const char* name;
    double bpw;
};
constexpr NominalPreset kNominal[] = {
    {"F32", 32.0},   {"F16", 16.0},   {"BF16", 16.0},   {"Q8_0", 8.50},   {"Q6_K", 6.56},   {"Q5_K_M", 5.70}, {"Q5_K_S", 5.52},
    {"Q5_1", 6.00},  {"Q5_0", 5.50},   {"Q4_K_M", 4.89}, {"Q4_K_S", 4.67}, {"Q4_1", 5.00},
    {"IQ4_NL", 4.50}, {"IQ4_XS", 4.32}, {"Q4_0", 4.55},  {"Q3_K_L", 4.30}, {"Q3_K_M", 3.91},
    {"Q3_K_S", 3.50}, {"Q2_K", 3.35},
};

// Llama-shaped architecture for a parameter count (KV cache and workspace without a model file).
struct Shape {
    uint32_t n_layer, n_embd, n_head_kv, head_dim, n_vocab;
};
Shape shape_for(uint64_t n_params) {
    if (n_params < 700'000'000ull) return {24, 896, 2, 64, 151936};      // ~0.5B (Qwen2.5-0.5B)
    if (n_params < 2'000'000'000ull) return {16, 2048, 8, 64, 128256};   // ~1B (Llama-3.2-1B)
    if (n_params < 5'000'000'000ull) return {28, 3072, 8, 128, 128256};  // ~3B (Llama-3.2-3B)
    if (n_params < 11'000'000'000ull) return {32, 4096, 8, 128, 128256}; // ~8B (Llama-3-8B)
    if (n_params < 20'000'000'000ull) return {40, 5120, 8, 128, 131072}; // ~14B
    if (n_params < 40'000'000'000ull) return {64, 5120, 8, 128, 152064}; // ~32B
    return {80, 8192, 8, 128, 128256};                                   // ~70B
}

// Compute buffers of the CUDA backend while serving, mirroring what it allocates: one forward pass
// carries up to T = 512 prompt tokens + one decode token per sequence, with float32 activations
// (residual, q/k/v, attention output, projection, gate and up (2 n_ff), up, GLU output: about
// 4.5 n_embd + 4 n_ff floats per token, n_ff taken as 3.5 n_embd as in Llama-3), logits rows for
// max(64, 2 x sequences) tokens, and scratch for the matrix products (a dequantization band of at
// most 64 MiB, cuBLAS's workspace and its own allocations), split attention and top-k. That last
// share does not follow the model's width: `llcuda bench` on an H200 measured it at about 320 MiB
// for Llama-3-8B-shaped models (Q4_K_M, Q4_0, Q8_0, F16) and for Llama-3.2-1B (Q4_K_M), where an
// earlier rule that scaled it with n_embd fell 12 % short.
uint64_t workspace_for(uint32_t n_vocab, uint32_t n_embd, uint32_t parallel) {
    const uint64_t rows = 512ull + parallel;
    const uint64_t logits = std::max<uint64_t>(64, 2ull * parallel) * n_vocab * 4;
    const uint64_t activations = rows * (uint64_t(n_embd) * 9 / 2 + uint64_t(n_embd) * 14) * 4;
    const uint64_t scratch = 320ull << 20;
    return kCudaContextBytes + logits + activations + scratch;
}

uint32_t max_context(uint64_t budget, uint64_t fixed, uint64_t kv_per_token, uint32_t parallel, uint32_t cap) {
    if (fixed >= budget || kv_per_token == 0) return 0;
    const uint64_t per_sequence = (budget - fixed) / (kv_per_token * parallel);
    return uint32_t(std::min<uint64_t>(per_sequence, cap));
}

int preset_rank(const std::string& name) {  // position in kNominal: lower = more precise
    for (size_t i = 0; i < std::size(kNominal); ++i) {
        if (name == kNominal[i].name) return int(i);
    }
    return int(std::size(kNominal));
}

// Presets the planner offers: those in kNominal but F32, which is never worth its size for
// inference. The ternary TQ types (for ternary-trained models only) are not offered either.
bool is_offered(std::string_view name) {
    return name != "F32" && preset_rank(std::string(name)) < int(std::size(kNominal));
}

// Reads the GGUF keys the KV cache is shaped by, with the same defaults as the engine's model
// config: head_count_kv defaults to head_count, key/value length to embedding_length / head_count.
uint64_t kv_bytes_per_token_of(const GgufContents& c, GgmlType type) {
    const std::string arch = c.get_string_or("general.architecture", "");
    const uint32_t n_layer = c.get_u32_or(arch + ".block_count", 0);
    const uint32_t n_head = c.get_u32_or(arch + ".attention.head_count", 0);
    const uint32_t n_head_kv = c.get_u32_or(arch + ".attention.head_count_kv", n_head);
    const uint32_t head_dim = n_head ? c.get_u32_or(arch + ".embedding_length", 0) / n_head : 0;
    const uint32_t head_dim_k = c.get_u32_or(arch + ".attention.key_length", head_dim);
    const uint32_t head_dim_v = c.get_u32_or(arch + ".attention.value_length", head_dim_k);
    return kv_cache_bytes_per_token(n_layer, n_head_kv, head_dim_k, head_dim_v, type, type);
}

uint64_t n_params_of(const GgufContents& c) {
    uint64_t n = 0;
    for (const auto& t : c.tensors) n += t.n_elements();
    return n;
}

// Every offered preset sized tensor by tensor with `llcuda quantize`'s rules, highest precision first.
std::vector<PresetSize> exact_weight_sizes(const GgufContents& c) {
    const uint64_t n_params = n_params_of(c);
    std::vector<PresetSize> sizes;
    for (const auto& preset : quant::file_type_presets()) {
        if (!is_offered(preset.name)) continue;
        const uint64_t bytes = quant::planned_weight_bytes(c, preset, {});
        sizes.push_back({preset.name, bytes, n_params ? 8.0 * double(bytes) / double(n_params) : 0.0});
    }
    std::stable_sort(sizes.begin(), sizes.end(),
                     [](const PresetSize& a, const PresetSize& b) { return preset_rank(a.type) < preset_rank(b.type); });
    return sizes;
}

}  // namespace

PlanStrategy plan_strategy_from_name(std::string_view name) {
    for (PlanStrategy s : {PlanStrategy::Aggressive, PlanStrategy::Balanced, PlanStrategy::Quality, PlanStrategy::Minimal}) {
        if (name == plan_strategy_name(s)) return s;
    }
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("unknown strategy '{}' (aggressive, balanced, quality or minimal)", name));
}

const char* plan_strategy_name(PlanStrategy strategy) {
    switch (strategy) {
        case PlanStrategy::Aggressive: return "aggressive";
        case PlanStrategy::Balanced: return "balanced";
        case PlanStrategy::Quality: return "quality";
        case PlanStrategy::Minimal: return "minimal";
    }
    return "?";
}

std::vector<PresetSize> plan_weight_sizes(const std::filesystem::path& model) {
    const GgufFile file = GgufFile::open(model);
    return exact_weight_sizes(file.contents());
}

Plan plan_deployment(const PlanRequest& r) {
    if (!r.model && r.n_params == 0) throw Error(ErrorKind::InvalidArgument, "give a model file or a parameter count");
    if (!(r.vram_gib > 0) || !std::isfinite(r.vram_gib)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("VRAM budget {} GiB must be positive", r.vram_gib));
    }
    if (r.context == 0 || r.parallel == 0) throw Error(ErrorKind::InvalidArgument, "context and parallel must be positive");

    Plan p;
    p.budget_bytes = uint64_t(r.vram_gib * kGiB);
    uint32_t n_ctx_max = 1u << 20, n_vocab = 0, n_embd = 0;
    std::vector<PresetSize> weights;
    if (r.model) {
        const GgufFile file = GgufFile::open(*r.model);
        const GgufContents& c = file.contents();
        p.exact_sizes = true;
        p.model_name = c.get_string_or("general.name", r.model->filename().string());
        p.n_params = n_params_of(c);
        p.kv_bytes_per_token_f16 = kv_bytes_per_token_of(c, GgmlType::F16);
        p.kv_bytes_per_token_q8_0 = kv_bytes_per_token_of(c, GgmlType::Q8_0);
        const std::string arch = c.get_string_or("general.architecture", "");
        n_ctx_max = c.get_u32_or(arch + ".context_length", n_ctx_max);
        n_embd = c.get_u32_or(arch + ".embedding_length", 4096);
        if (const GgufTensorInfo* e = c.find_tensor("token_embd.weight")) n_vocab = uint32_t(e->ne[1]);
        weights = exact_weight_sizes(c);
    } else {
        const Shape s = shape_for(r.n_params);
        p.n_params = r.n_params;
        p.model_name = fmt::format("{:.1f}B-parameter Llama-shaped model", double(r.n_params) / 1e9);
        p.kv_bytes_per_token_f16 =
            kv_cache_bytes_per_token(s.n_layer, s.n_head_kv, s.head_dim, s.head_dim, GgmlType::F16, GgmlType::F16);
        p.kv_bytes_per_token_q8_0 =
            kv_cache_bytes_per_token(s.n_layer, s.n_head_kv, s.head_dim, s.head_dim, GgmlType::Q8_0, GgmlType::Q8_0);
        n_vocab = s.n_vocab;
        n_embd = s.n_embd;
        for (const auto& n : kNominal) {
            if (!is_offered(n.name)) continue;
            weights.push_back({n.name, uint64_t(double(r.n_params) * n.bpw / 8.0), n.bpw});
        }
    }
    p.workspace_bytes = workspace_for(n_vocab, n_embd, r.parallel);
    p.cuda_context_bytes = kCudaContextBytes;

    uint64_t f16_bytes = 0;
    for (const PresetSize& w : weights) {
        if (w.type == "F16") f16_bytes = w.weight_bytes;
        PlanCandidate cand;
        cand.type = w.type;
        cand.weight_bytes = w.weight_bytes;
        cand.bits_per_weight = w.bits_per_weight;
        const uint64_t fixed = w.weight_bytes + p.workspace_bytes;
        cand.max_context_f16 = max_context(p.budget_bytes, fixed, p.kv_bytes_per_token_f16, r.parallel, n_ctx_max);
        cand.max_context_q8_0 = max_context(p.budget_bytes, fixed, p.kv_bytes_per_token_q8_0, r.parallel, n_ctx_max);
        cand.fits = cand.max_context_q8_0 >= r.context;
        p.candidates.push_back(cand);
    }

    // Strategy: the most precise candidate within the strategy's ceiling that fits.
    const int ceiling = r.strategy == PlanStrategy::Aggressive ? preset_rank("Q4_K_M")
                        : r.strategy == PlanStrategy::Balanced ? preset_rank("Q6_K")
                                                               : 0;
    const PlanCandidate* chosen = nullptr;
    if (r.strategy == PlanStrategy::Minimal) {
        for (const auto& c : p.candidates) {
            if (c.fits && (!chosen || c.weight_bytes < chosen->weight_bytes)) chosen = &c;
        }
    } else {
        for (const auto& c : p.candidates) {
            if (c.fits && preset_rank(c.type) >= ceiling) {
                chosen = &c;
                break;
            }
        }
    }
    if (!chosen) return p;
    p.recommended_type = chosen->type;
    const bool prefer_q8 = r.strategy == PlanStrategy::Aggressive || r.strategy == PlanStrategy::Minimal;
    const bool f16_fits = chosen->max_context_f16 >= r.context;
    p.recommended_kv_type = (!prefer_q8 && f16_fits) ? "f16" : "q8_0";
    const uint64_t kv_per_token = p.recommended_kv_type == "f16" ? p.kv_bytes_per_token_f16 : p.kv_bytes_per_token_q8_0;
    p.recommended_context = p.recommended_kv_type == "f16" ? chosen->max_context_f16 : chosen->max_context_q8_0;
    p.recommended_total_bytes = chosen->weight_bytes + p.workspace_bytes + kv_per_token * r.context * r.parallel;
    p.compression_vs_f16 = f16_bytes ? double(f16_bytes) / double(chosen->weight_bytes) : 0;
    // Decode reads every weight once per step plus, on average, half of a full context's KV cache.
    const double bytes_per_token = double(chosen->weight_bytes) + double(kv_per_token) * r.context / 2.0;
    for (const auto& g : planner::kGpuBandwidths) {
        p.speed.push_back({g.name, g.gb_per_s, g.gb_per_s * 1e9 / bytes_per_token});
    }
    return p;
}

}  // namespace llcuda
