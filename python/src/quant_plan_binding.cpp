// llcuda._llcuda VRAM planner over llcuda/planner.h: the one planner `llcuda recommend` prints.
// llcuda.quantization.recommend / DynamicQuantizer wrap it.
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "llcuda/planner.h"

namespace llcuda_py {

void bind_planner(nb::module_& m) {
    using llcuda::PlanCandidate;
    nb::class_<PlanCandidate>(m, "PlanCandidate", "One quantization preset as planned for the budget.")
        .def_ro("type", &PlanCandidate::type, "llama-quantize preset name: 'Q4_K_M', 'Q8_0', 'F16', ...")
        .def_ro("weight_bytes", &PlanCandidate::weight_bytes, "Bytes of weights with this preset.")
        .def_ro("bits_per_weight", &PlanCandidate::bits_per_weight, "Average bits per weight.")
        .def_ro("fits", &PlanCandidate::fits, "Weights + KV cache (context x parallel) + workspace fit the budget.")
        .def_ro("max_context_f16", &PlanCandidate::max_context_f16, "Largest context per sequence with an f16 KV cache (0: none).")
        .def_ro("max_context_q8_0", &PlanCandidate::max_context_q8_0, "Largest context per sequence with a q8_0 KV cache.");

    using llcuda::GpuSpeedEstimate;
    nb::class_<GpuSpeedEstimate>(m, "GpuSpeedEstimate", "Decode-speed ceiling of the recommendation on a known GPU.")
        .def_ro("gpu", &GpuSpeedEstimate::gpu, "GPU name.")
        .def_ro("bandwidth_gb_s", &GpuSpeedEstimate::bandwidth_gb_s, "Memory bandwidth, GB/s.")
        .def_ro("roofline_tok_s", &GpuSpeedEstimate::roofline_tok_s, "Bandwidth / bytes read per token, tokens/s.");

    using llcuda::Plan;
    nb::class_<Plan>(m, "Plan", "The planner's answer (llcuda/planner.h): every candidate and the recommendation.")
        .def_ro("model_name", &Plan::model_name, "Model (file name or a description of the parameter count).")
        .def_ro("n_params", &Plan::n_params, "Parameters.")
        .def_ro("budget_bytes", &Plan::budget_bytes, "The memory budget in bytes.")
        .def_ro("kv_bytes_per_token_f16", &Plan::kv_bytes_per_token_f16, "KV cache bytes per token (all layers), f16.")
        .def_ro("kv_bytes_per_token_q8_0", &Plan::kv_bytes_per_token_q8_0, "KV cache bytes per token, q8_0.")
        .def_ro("workspace_bytes", &Plan::workspace_bytes, "Allowance for the CUDA context, activations and logits.")
        .def_ro("cuda_context_bytes", &Plan::cuda_context_bytes, "The CUDA context's part of workspace_bytes.")
        .def_ro("candidates", &Plan::candidates, "Every preset, highest precision first.")
        .def_ro("recommended_type", &Plan::recommended_type, "The recommended preset ('' when nothing fits).")
        .def_ro("recommended_kv_type", &Plan::recommended_kv_type, "'f16' or 'q8_0'.")
        .def_ro("recommended_context", &Plan::recommended_context, "Largest context per sequence that fits with it.")
        .def_ro("recommended_total_bytes", &Plan::recommended_total_bytes,
                "Weights + KV cache at the requested context + workspace.")
        .def_ro("compression_vs_f16", &Plan::compression_vs_f16, "F16 weight bytes / recommended weight bytes.")
        .def_ro("speed", &Plan::speed, "Decode ceilings for the recommendation on known GPUs.")
        .def_ro("exact_sizes", &Plan::exact_sizes, "True when planned tensor by tensor from a GGUF file.");

    m.def(
        "plan_deployment",
        [](std::optional<std::filesystem::path> model, uint64_t n_params, double vram_gib, uint32_t context,
           uint32_t parallel, const std::string& strategy) {
            llcuda::PlanRequest r;
            r.model = model;
            r.n_params = n_params;
            r.vram_gib = vram_gib;
            r.context = context;
            r.parallel = parallel;
            r.strategy = llcuda::plan_strategy_from_name(strategy);
            nb::gil_scoped_release release;
            return llcuda::plan_deployment(r);
        },
        nb::arg("model").none(), nb::arg("n_params"), nb::arg("vram_gib"), nb::arg("context") = 4096,
        nb::arg("parallel") = 1, nb::arg("strategy") = "balanced",
        "Plan a deployment (`llcuda recommend`): a GGUF model file (exact sizes) or a parameter count, a VRAM "
        "budget in GiB, context and parallel sequences; strategy aggressive | balanced | quality | minimal.");
}

}  // namespace llcuda_py
