// llcuda recommend (MODEL | --params N) --vram GB [--ctx N] [--parallel N]
//                  [--strategy aggressive|balanced|quality|minimal] [--json]
#include <fmt/format.h>

#include "commands.h"
#include "llcuda/error.h"
#include "llcuda/planner.h"
#include "plan_report.h"

namespace llcuda::cli {

namespace {

struct RecommendOptions {
    std::string model;
    std::string params;
    PlanRequest request;
    std::string strategy = "balanced";
    bool json = false;
};

// --params: "8B", "8e9", "8000M", "135M", "1.5T", "7000K"; a bare number below a million is read as
// billions ("8" = 8B, as the flag has always meant), a larger one as a count of parameters.
uint64_t parse_param_count(const std::string& text, std::string& unit_read) {
    size_t used = 0;
    double value = 0;
    try {
        value = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    std::string suffix = text.substr(used);
    double scale = 0;
    if (used == 0) scale = 0;
    else if (suffix.empty()) scale = value < 1e6 ? 1e9 : 1;
    else if (suffix == "K" || suffix == "k") scale = 1e3;
    else if (suffix == "M" || suffix == "m") scale = 1e6;
    else if (suffix == "B" || suffix == "b" || suffix == "G" || suffix == "g") scale = 1e9;
    else if (suffix == "T" || suffix == "t") scale = 1e12;
    if (scale == 0 || !(value > 0) || value * scale > 1e15) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("--params {}: give a positive parameter count such as 8B, 8e9, 8000M or 135M", text));
    }
    unit_read = suffix.empty() ? (scale == 1 ? "a count of parameters" : "no unit: billions") : "unit " + suffix;
    return uint64_t(value * scale);
}

}  // namespace

void register_recommend(CLI::App& app, CommandSlot& slot) {
    auto o = std::make_shared<RecommendOptions>();
    slot.app = app.add_subcommand("recommend", "Recommend a quantization, KV-cache type and context for a VRAM budget");
    slot.app->add_option("model", o->model, "GGUF model to plan exactly");
    slot.app->add_option("--params", o->params, "Parameter count instead of a model file: 8B, 8e9, 8000M (a bare "
                                                "number below 1e6 is billions)");
    slot.app->add_option("--vram", o->request.vram_gib, "GPU memory budget in GiB")->required();
    slot.app->add_option("--ctx", o->request.context, "Context per sequence")->capture_default_str();
    slot.app->add_option("--parallel", o->request.parallel, "Sequences served at once")->capture_default_str();
    slot.app->add_option("--strategy", o->strategy, "aggressive | balanced | quality | minimal")->capture_default_str();
    slot.app->add_flag("--json", o->json, "Print JSON");
    slot.run = [o]() {
        PlanRequest r = o->request;
        if (o->model.empty() == o->params.empty()) {
            throw Error(ErrorKind::InvalidArgument, "give either a model file or --params (such as 8B), not both");
        }
        if (!o->model.empty()) r.model = o->model;
        if (!o->params.empty()) {
            std::string unit;
            r.n_params = parse_param_count(o->params, unit);
            if (!o->json) {
                fmt::print(stderr, "llcuda recommend: --params {} read as {:.3g} billion parameters ({})\n", o->params,
                           double(r.n_params) / 1e9, unit);
            }
        }
        r.strategy = plan_strategy_from_name(o->strategy);
        const Plan p = plan_deployment(r);
        if (o->json) fmt::print("{}\n", plan_to_json(p).dump(2));
        else print_plan_text(p, r);
        return 0;
    };
}

}  // namespace llcuda::cli
