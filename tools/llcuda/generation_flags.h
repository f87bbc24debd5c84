// Command-line flags shared by `run` and `chat`: model loading and sampling.
#pragma once

#include <map>
#include <string>

#include <CLI/CLI.hpp>

#include "llcuda/engine.h"

namespace llcuda::cli {

inline std::map<std::string, Backend> backend_names() {
    return {{"auto", Backend::Auto}, {"cpu", Backend::Cpu}, {"cuda", Backend::Cuda}};
}
inline std::map<std::string, KvCacheType> kv_type_names() {
    return {{"f16", KvCacheType::F16}, {"q8_0", KvCacheType::Q8_0}};
}

struct GenerationFlags {
    std::string model;
    LoadOptions load;
    SamplingParams sampling;
    uint64_t seed = 0;
    bool has_seed = false;
    bool greedy = false;

    void add_to(CLI::App* app) {
        app->add_option("-m,--model", model, "GGUF model (default: the built-in SmolLM2-135M-Instruct)");
        app->add_option("-c,--ctx", load.context_length, "Context length (default: the model's, at most 4096)");
        app->add_option("-t,--threads", load.n_threads, "CPU threads (default: all cores)");
        app->add_option("--backend", load.backend, "auto (the GPU when there is a usable one), cpu or cuda")
            ->transform(CLI::CheckedTransformer(backend_names(), CLI::ignore_case))
            ->default_str("auto");
        app->add_option("--kv-type", load.kv_type, "KV-cache element type on the GPU: f16 or q8_0")
            ->transform(CLI::CheckedTransformer(kv_type_names(), CLI::ignore_case))
            ->default_str("f16");
        app->add_option("-n,--max-tokens", sampling.max_tokens, "Tokens to generate at most")->capture_default_str();
        app->add_option("--temp", sampling.temperature, "Temperature (0: greedy)")->capture_default_str();
        app->add_flag("--greedy", greedy, "Always take the most likely token (same as --temp 0)");
        app->add_option("--top-k", sampling.top_k, "Top-k (<= 0 disables)")->capture_default_str();
        app->add_option("--top-p", sampling.top_p, "Top-p / nucleus (1 disables)")->capture_default_str();
        app->add_option("--min-p", sampling.min_p, "Min-p (0 disables)")->capture_default_str();
        app->add_option("--typical", sampling.typical_p, "Locally typical sampling (1 disables)")->capture_default_str();
        app->add_option("--repeat-penalty", sampling.repetition_penalty, "Repetition penalty (1 disables)")->capture_default_str();
        app->add_option("--presence-penalty", sampling.presence_penalty, "Presence penalty")->capture_default_str();
        app->add_option("--frequency-penalty", sampling.frequency_penalty, "Frequency penalty")->capture_default_str();
        app->add_option("--repeat-last-n", sampling.penalty_last_n, "Tokens the penalties look at (-1: all)")->capture_default_str();
        app->add_option("--seed", seed, "Random seed (same seed, same text)")->each([this](const std::string&) { has_seed = true; });
        app->add_option("--stop", sampling.stop, "Stop string (repeatable)");
        app->add_flag("--ignore-eos", sampling.ignore_eos, "Keep generating past end-of-generation tokens");
    }

    SamplingParams params() const {
        SamplingParams p = sampling;
        if (greedy) p.temperature = 0.0f;
        if (has_seed) p.seed = seed;
        return p;
    }
};

}  // namespace llcuda::cli
