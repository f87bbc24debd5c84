// Loading for `run` and `chat` (generation_setup.h).
#include "generation_setup.h"

#include <thread>

#include <fmt/format.h>

#include "default_model.h"
#include "interrupt.h"

namespace llcuda::cli {

void load_for_generation(const GenerationFlags& flags, LoadedModel& out) {
    out.flags = flags.resolve();  // every flag checked before the model is opened
    const auto path = resolve_model(flags.model);
    out.facts = read_model_facts(path);
    const MemoryEstimate estimate = estimate_memory(out.facts, out.flags.load);
    const auto warnings = check_before_load(out.facts, estimate, flags.force_ctx, out.flags.n_gpu_layers);
    for (const auto& n : out.flags.notices) fmt::print(stderr, "llcuda: note: {}\n", n);
    for (const auto& w : warnings) fmt::print(stderr, "llcuda: warning: {}\n", w);
    out.engine.load_model(path, out.flags.load);
    const ModelInfo info = out.engine.model_info();
    out.n_ctx = info.context_length;
    if (flags.quiet) return;
    const bool cpu = info.backend == "cpu";
    const unsigned threads = out.flags.load.n_threads ? out.flags.load.n_threads : std::thread::hardware_concurrency();
    fmt::print(stderr, "llcuda: {} ({}, {}, {:.1f} M parameters) on {}{}, context {} (trained {}), {}seed {}\n",
               info.name.empty() ? path.filename().string() : info.name, info.architecture,
               out.facts.file_type.empty() ? "unknown type" : out.facts.file_type, double(info.n_parameters) / 1e6,
               cpu ? "cpu" : "cuda", cpu ? "" : " (" + estimate.device + ")", info.context_length,
               out.facts.n_ctx_train, cpu ? fmt::format("{} threads, ", threads) : "", out.flags.seed);
}

bool print_piece(std::string_view piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    return !stop_requested();
}

std::string finish_description(const InferenceResult& r, const SamplingParams& params) {
    if (r.finish_reason == FinishReason::Length && r.n_generated_tokens < params.max_tokens) return "context_full";
    return finish_reason_name(r.finish_reason);
}

std::string stats_line(const std::string& backend, const InferenceResult& r, const SamplingParams& params) {
    const std::string rate = r.n_generated_tokens >= 2 ? fmt::format(" at {:.1f} tok/s", r.tokens_per_sec) : "";
    return fmt::format("[{}: {} prompt tokens in {:.0f} ms, {} generated{}, finish: {}]", backend, r.n_prompt_tokens,
                       r.prompt_ms, r.n_generated_tokens, rate, finish_description(r, params));
}

}  // namespace llcuda::cli
