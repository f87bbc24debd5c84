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
    double params_billions = 0;
    PlanRequest request;
    std::string strategy = "balanced";
    bool json = false;
};

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
        if (o->model.empty() == (o->params_billions <= 0)) {
            throw Error(ErrorKind::InvalidArgument, "give either a model file or --params (in billions)");
        }
        if (!o->model.empty()) r.model = o->model;
        if (o->params_billions > 0) r.n_params = uint64_t(o->params_billions * 1e9);
        r.strategy = plan_strategy_from_name(o->strategy);
        const Plan p = plan_deployment(r);
        if (o->json) fmt::print("{}\n", plan_to_json(p).dump(2));
        else print_plan_text(p, r);
        return 0;
    };
}

}  // namespace llcuda::cli
