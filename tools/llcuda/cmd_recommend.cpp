// llcuda recommend (MODEL | --params N) --vram GB [--ctx N] [--parallel N]
//                  [--strategy aggressive|balanced|quality|minimal] [--json]
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "llcuda/error.h"
#include "llcuda/planner.h"

namespace llcuda::cli {

namespace {

struct RecommendOptions {
    std::string model;
    double params_billions = 0;
    PlanRequest request;
    std::string strategy = "balanced";
    bool json = false;
};

double mib(uint64_t bytes) { return double(bytes) / double(1 << 20); }

void print_text(const Plan& p, const PlanRequest& r) {
    fmt::print("model      {} ({:.2f} B parameters{})\n", p.model_name, double(p.n_params) / 1e9,
               p.exact_sizes ? ", sizes planned tensor by tensor" : ", sizes from nominal bits per weight");
    fmt::print("budget     {:.2f} GiB, context {} x {} sequence(s)\n", r.vram_gib, r.context, r.parallel);
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
    fmt::print("\nrecommended: {} weights, {} KV cache; {:.2f} GiB at context {} ({}x compression vs F16); "
               "up to {} tokens of context fit\n",
               p.recommended_type, p.recommended_kv_type, double(p.recommended_total_bytes) / double(1ull << 30),
               r.context, fmt::format("{:.2f}", p.compression_vs_f16), p.recommended_context);
    fmt::print("\ndecode ceiling at batch 1 (bandwidth / bytes read per token):\n");
    for (const auto& s : p.speed) fmt::print("  {:<12} {:>6.0f} GB/s  {:>8.1f} tok/s\n", s.gpu, s.bandwidth_gb_s, s.roofline_tok_s);
}

nlohmann::json to_json(const Plan& p) {
    nlohmann::json j = {{"model", p.model_name}, {"parameters", p.n_params}, {"budget_bytes", p.budget_bytes},
                        {"exact_sizes", p.exact_sizes}, {"kv_bytes_per_token", {{"f16", p.kv_bytes_per_token_f16}, {"q8_0", p.kv_bytes_per_token_q8_0}}},
                        {"workspace_bytes", p.workspace_bytes}};
    for (const auto& c : p.candidates) {
        j["candidates"].push_back({{"type", c.type}, {"weight_bytes", c.weight_bytes}, {"bits_per_weight", c.bits_per_weight},
                                   {"max_context_f16", c.max_context_f16}, {"max_context_q8_0", c.max_context_q8_0}, {"fits", c.fits}});
    }
    j["recommended"] = p.recommended_type.empty() ? nlohmann::json(nullptr)
                                                  : nlohmann::json{{"type", p.recommended_type}, {"kv_type", p.recommended_kv_type},
                                                                   {"max_context", p.recommended_context},
                                                                   {"total_bytes", p.recommended_total_bytes},
                                                                   {"compression_vs_f16", p.compression_vs_f16}};
    for (const auto& s : p.speed) j["decode_ceiling_tok_s"][s.gpu] = s.roofline_tok_s;
    return j;
}

}  // namespace

void register_recommend(CLI::App& app, CommandSlot& slot) {
    auto o = std::make_shared<RecommendOptions>();
    slot.app = app.add_subcommand("recommend", "Recommend a quantization, KV-cache type and context for a VRAM budget");
    slot.app->add_option("model", o->model, "GGUF model to plan exactly");
    slot.app->add_option("--params", o->params_billions, "Parameter count in billions, instead of a model file");
    slot.app->add_option("--vram", o->request.vram_gib, "GPU memory budget in GiB")->required();
    slot.app->add_option("--ctx", o->request.context, "Context per sequence")->capture_default_str();
    slot.app->add_option("--parallel", o->request.parallel, "Sequences served at once")->capture_default_str();
    slot.app->add_option("--strategy", o->strategy, "aggressive | balanced | quality | minimal")->capture_default_str();
    slot.app->add_flag("--json", o->json, "Print JSON");
    slot.run = [o]() {
        PlanRequest r = o->request;
        if (!o->model.empty()) r.model = o->model;
        if (o->params_billions > 0) r.n_params = uint64_t(o->params_billions * 1e9);
        if (o->model.empty() == (o->params_billions <= 0)) {
            throw Error(ErrorKind::InvalidArgument, "give either a model file or --params (in billions)");
        }
        const std::pair<const char*, PlanStrategy> strategies[] = {{"aggressive", PlanStrategy::Aggressive},
            {"balanced", PlanStrategy::Balanced}, {"quality", PlanStrategy::Quality}, {"minimal", PlanStrategy::Minimal}};
        bool known = false;
        for (const auto& [name, s] : strategies) {
            if (o->strategy == name) {
                r.strategy = s;
                known = true;
            }
        }
        if (!known) throw Error(ErrorKind::InvalidArgument, "unknown strategy '" + o->strategy + "'");
        const Plan p = plan_deployment(r);
        if (o->json) fmt::print("{}\n", to_json(p).dump(2));
        else print_text(p, r);
        return 0;
    };
}

}  // namespace llcuda::cli
