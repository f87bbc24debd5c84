// How `llcuda recommend` and `llcuda quantize --dry-run --vram` print a plan: one planner
// (llcuda/planner.h), one rendering, so the two commands cannot disagree.
#pragma once

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llcuda/planner.h"

namespace llcuda::cli {

inline double mib(uint64_t bytes) { return double(bytes) / double(1 << 20); }

inline void print_plan_text(const Plan& p, const PlanRequest& r) {
    fmt::print("model      {} ({:.2f} B parameters{})\n", p.model_name, double(p.n_params) / 1e9,
               p.exact_sizes ? ", sizes planned tensor by tensor" : ", sizes from nominal bits per weight");
    fmt::print("budget     {:.2f} GiB, context {} x {} sequence(s), strategy {}\n", r.vram_gib, r.context, r.parallel,
               plan_strategy_name(r.strategy));
    fmt::print("KV cache   {:.1f} KiB per token in f16, {:.1f} KiB in q8_0\n", p.kv_bytes_per_token_f16 / 1024.0,
               p.kv_bytes_per_token_q8_0 / 1024.0);
    fmt::print("workspace  {:.0f} MiB (CUDA context, activations, logits)\n\n", mib(p.workspace_bytes));
    fmt::print("{:<8} {:>11} {:>6} {:>14} {:>14}  {}\n", "type", "weights", "bpw", "max ctx f16", "max ctx q8_0", "fits");
    for (const auto& c : p.candidates) {
        fmt::print("{:<8} {:>8.1f} MiB {:>6.2f} {:>14} {:>14}  {}\n", c.type, mib(c.weight_bytes), c.bits_per_weight,
                   c.max_context_f16, c.max_context_q8_0, c.fits ? "yes" : "no");
    }
    if (p.recommended_type.empty()) {
        fmt::print("\nnothing fits: even the smallest type needs more than {:.2f} GiB at context {}\n", r.vram_gib, r.context);
        return;
    }
    fmt::print("\nrecommended: {} weights, {} KV cache; {:.2f} GiB at context {} ({:.2f}x compression vs F16); "
               "up to {} tokens of context fit\n",
               p.recommended_type, p.recommended_kv_type, double(p.recommended_total_bytes) / double(1ull << 30),
               r.context, p.compression_vs_f16, p.recommended_context);
    fmt::print("\ndecode ceiling at batch 1 (bandwidth / bytes read per token):\n");
    for (const auto& s : p.speed) fmt::print("  {:<12} {:>6.0f} GB/s  {:>8.1f} tok/s\n", s.gpu, s.bandwidth_gb_s, s.roofline_tok_s);
}

inline nlohmann::json plan_to_json(const Plan& p) {
    nlohmann::json j = {{"model", p.model_name},
                        {"parameters", p.n_params},
                        {"budget_bytes", p.budget_bytes},
                        {"exact_sizes", p.exact_sizes},
                        {"kv_bytes_per_token", {{"f16", p.kv_bytes_per_token_f16}, {"q8_0", p.kv_bytes_per_token_q8_0}}},
                        {"workspace_bytes", p.workspace_bytes}};
    for (const auto& c : p.candidates) {
        j["candidates"].push_back({{"type", c.type}, {"weight_bytes", c.weight_bytes}, {"bits_per_weight", c.bits_per_weight},
                                   {"max_context_f16", c.max_context_f16}, {"max_context_q8_0", c.max_context_q8_0},
                                   {"fits", c.fits}});
    }
    j["recommended"] = p.recommended_type.empty()
                           ? nlohmann::json(nullptr)
                           : nlohmann::json{{"type", p.recommended_type}, {"kv_type", p.recommended_kv_type},
                                            {"max_context", p.recommended_context},
                                            {"total_bytes", p.recommended_total_bytes},
                                            {"compression_vs_f16", p.compression_vs_f16}};
    for (const auto& s : p.speed) j["decode_ceiling_tok_s"][s.gpu] = s.roofline_tok_s;
    return j;
}

}  // namespace llcuda::cli
