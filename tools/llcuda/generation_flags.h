// Command-line flags shared by `run` and `chat`: model loading, sampling and llama.cpp's names for
// them (docs/cli.md has the table). Every value is checked by resolve(), before any model loads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "llcuda/engine.h"

namespace llcuda::cli {

inline std::map<std::string, Backend> backend_names() {
    return {{"auto", Backend::Auto}, {"cpu", Backend::Cpu}, {"cuda", Backend::Cuda}};
}
inline std::map<std::string, KvCacheType> kv_type_names() {
    return {{"f16", KvCacheType::F16}, {"q8_0", KvCacheType::Q8_0}};
}

// What the flags ask for, checked: ready for load_model and the generation calls.
struct ResolvedFlags {
    LoadOptions load;
    SamplingParams params;           // with the seed drawn when none (or -1) was given
    uint64_t seed = 0;               // the seed in use, printed so that a run can be repeated
    int64_t n_gpu_layers = -1;       // -ngl; -1: not given or "all"
    std::vector<std::string> notices;  // one line per flag accepted but not honoured
};

struct GenerationFlags {
    std::string model;
    int64_t ctx = 0;                 // -c; 0: the model's, at most 4096
    int64_t threads = 0;             // -t; 0 or -1: all cores
    Backend backend = Backend::Auto;
    KvCacheType kv_type = KvCacheType::F16;
    int64_t n_predict = 128;         // -n; -1 / -2: until the context is full
    SamplingParams sampling;
    bool greedy = false;
    int64_t seed = -1;               // -s; -1: a random seed
    std::vector<std::string> stop;
    std::vector<std::string> reverse_prompts;  // -r: stop strings, llama.cpp's name
    std::string system_prompt;       // -sys
    bool escape = true;              // -e (llama.cpp's default) / --no-escape
    bool no_escape = false;
    std::string grammar, grammar_file, json_schema, json_schema_file;
    std::string n_gpu_layers;        // -ngl: a number, "all" or "auto"
    std::optional<std::string> flash_attn;  // -fa [on|off|auto]
    int64_t batch = 0, ubatch = 0;   // -b, -ub
    bool no_warmup = false, verbose_prompt = false;
    bool conversation = false, no_conversation = false;
    bool force_ctx = false;
    bool quiet = false;

    // `default_n_predict`: what -n is when not given (shown in --help).
    void add_to(CLI::App* app, int64_t default_n_predict);
    // Checks every value (sampling, -c, -t, -n, files) and builds the engine's options; throws
    // InvalidArgument naming the flag. Does not touch the model.
    ResolvedFlags resolve() const;
    // Text the user typed for -p / -sys, with escapes processed unless --no-escape.
    std::string user_text(const std::string& text) const;
};

}  // namespace llcuda::cli
