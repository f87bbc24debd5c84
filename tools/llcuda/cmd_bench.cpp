// llcuda bench -m MODEL [-p 512] [-n 128] [-d DEPTH] [-r REPS] [--parallel N,...] [--backend auto|cpu|cuda] [--json]
// Prompt processing (ppN) and generation (tgN) speed as llama-bench reports them: tokens per
// second, mean ± sample standard deviation over REPS runs after one warm-up, each beside its
// percentage of a ceiling measured on the card at start-up (docs/bench.md):
//   decode:  copy bandwidth / (weight bytes read per token + KV bytes per position x mean context)
//   prefill: tensor-core rate / (2 x parameters) FLOPs per token
// With --parallel, llama-batched-bench's rows instead: N sequences decoding together (bench_parallel.h).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench_format.h"
#include "bench_math.h"
#include "bench_parallel.h"
#include "generation_flags.h"
#include "commands.h"
#include "default_model.h"
#include "llcuda/devices.h"
#include "llcuda/engine.h"
#include "llcuda/error.h"
#include "llcuda/gguf.h"
#include "llcuda/planner.h"

namespace llcuda::cli {
namespace {

struct BenchCliOptions {
    std::string model;
    uint32_t n_prompt = 512, n_gen = 128, depth = 0, reps = 5;
    std::string backend = "auto";
    unsigned threads = 0;
    uint64_t seed = 42;
    bool json = false;
    KvCacheType kv_type = KvCacheType::F16;
    bool f16_weights = false;         // --f16-weights: LoadOptions::f16_weight_copies
    std::vector<uint32_t> parallel;  // --parallel: sequence counts of the batched test (empty: pp/tg)
};

struct TestResult {
    std::string name;                 // "pp512", "tg128 @ d4096"
    uint32_t n_prompt = 0, n_gen = 0, depth = 0;
    std::vector<double> samples;      // tokens per second, one per repetition
    double mean = 0, sd = 0;
    std::optional<double> ceiling;    // tokens per second
};

Backend parse_backend(const std::string& name) {
    if (name == "auto") return Backend::Auto;
    if (name == "cpu") return Backend::Cpu;
    if (name == "cuda") return Backend::Cuda;
    throw Error(ErrorKind::InvalidArgument, fmt::format("--backend: '{}' is not auto, cpu or cuda", name));
}

// The device ceilings, or nullopt with the reason. An explicit --backend cuda must have them.
std::optional<DeviceCeilings> device_ceilings(Backend backend, std::string& note) {
    if (backend == Backend::Cpu) {
        note = "CPU backend: no ceiling";
        return std::nullopt;
    }
    if (backend == Backend::Auto) {
        const GpuQuery q = query_gpus();
        if (!q.cuda_built || q.devices.empty()) {
            note = q.status;
            return std::nullopt;
        }
    }
    fmt::print(stderr, "measuring device ceilings (copy bandwidth, tensor-core GEMM)...\n");
    try {
        return measure_ceilings(0);
    } catch (const Error& e) {
        if (backend == Backend::Cuda) throw;
        note = e.what();
        return std::nullopt;
    }
}

void summarize(TestResult& t) {
    const MeanSd m = mean_sd(t.samples);
    t.mean = m.mean, t.sd = m.sd;
}

// One llama-bench test: a warm-up call, then `reps` timed calls with different random tokens.
TestResult run_test(InferenceEngine& engine, const BenchCliOptions& o, bool prompt) {
    TestResult t;
    t.n_prompt = prompt ? o.n_prompt : 0;
    t.n_gen = prompt ? 0 : o.n_gen;
    t.depth = o.depth;
    t.name = prompt ? fmt::format("pp{}", o.n_prompt) : fmt::format("tg{}", o.n_gen);
    if (o.depth) t.name += fmt::format(" @ d{}", o.depth);
    if (o.kv_type == KvCacheType::Q8_0) t.name += " kv q8_0";
    if (o.f16_weights) t.name += " f16 weights";
    fmt::print(stderr, "{}: warm-up and {} runs...\n", t.name, o.reps);
    engine.bench(t.n_prompt, t.n_gen, t.depth, o.seed);
    for (uint32_t r = 0; r < o.reps; ++r) {
        const BenchTimes times = engine.bench(t.n_prompt, t.n_gen, t.depth, o.seed + 1 + r);
        const double ms = prompt ? times.prompt_ms : times.generate_ms;
        if (!(ms > 0)) throw Error(ErrorKind::Internal, fmt::format("{}: the engine reported {} ms", t.name, ms));
        t.samples.push_back(double(prompt ? t.n_prompt : t.n_gen) / (ms * 1e-3));
    }
    summarize(t);
    return t;
}

// Tokens per second the ceilings allow for this test (see the file comment).
std::optional<double> test_ceiling(const TestResult& t, const ModelInfo& info, const DeviceCeilings& c) {
    return t.n_prompt > 0 ? prefill_ceiling(info, c) : decode_ceiling(info, c, 1, t.depth, t.n_gen);
}

uint64_t gpu_free_bytes() {
    const GpuQuery q = query_gpus();
    return q.devices.empty() ? 0 : q.devices.front().free_memory;
}

// The GPU memory the engine really holds after the runs (free before load - free now; the CUDA
// context already existed then) against the VRAM planner's prediction for the same model and
// context without its CUDA-context allowance (weights + f16 KV + buffers), so that the planner can
// be corrected when they part by more than a few percent.
void print_memory_check(const std::string& model, uint32_t context, uint64_t free_before, uint64_t weight_bytes) {
    const uint64_t free_after = gpu_free_bytes();
    if (free_before == 0 || free_after > free_before) return;
    PlanRequest r;
    r.model = model;
    r.vram_gib = 1e6;
    r.context = context;
    const Plan plan = plan_deployment(r);
    const uint64_t buffers = plan.workspace_bytes - plan.cuda_context_bytes;
    const uint64_t predicted = weight_bytes + plan.kv_bytes_per_token_f16 * context + buffers;
    const uint64_t used = free_before - free_after;
    fmt::print("GPU memory held: {:.3f} GiB; VRAM planner: {:.3f} GiB (weights {:.3f} + KV {:.3f} + buffers {:.3f}; "
               "its CUDA-context allowance of {:.3f} left out), {:+.1f} %\n",
               double(used) / (1ull << 30), double(predicted) / (1ull << 30), double(weight_bytes) / (1ull << 30),
               double(plan.kv_bytes_per_token_f16 * context) / (1ull << 30), double(buffers) / (1ull << 30),
               double(plan.cuda_context_bytes) / (1ull << 30), 100.0 * (double(predicted) / double(used) - 1));
}

uint64_t tensor_bytes(const std::string& path) {
    uint64_t total = 0;
    for (const auto& t : GgufFile::open(path).contents().tensors) total += t.n_bytes;
    return total;
}

void print_table(const BenchCliOptions& o, const ModelInfo& info, uint64_t size, const std::optional<DeviceCeilings>& c,
                 const std::string& note, const std::vector<TestResult>& tests,
                 const std::vector<ParallelTest>& parallel) {
    if (c) {
        fmt::print("device: {}: copy {:.0f} GB/s, fp16 tensor cores {:.0f} TFLOP/s (measured)\n", c->device_name,
                   c->copy_gb_per_s, c->tensor_tflops);
    } else {
        fmt::print("device: no ceiling ({})\n", note);
    }
    fmt::print("model: {} ({}, {}, {} parameters; decode reads {} of weights + {:.1f} KiB of KV per position)\n\n",
               o.model, info.architecture, format_bytes(size), format_params(info.n_parameters),
               format_bytes(info.weight_bytes_per_token), double(info.kv_bytes_per_position) / 1024.0);
    const std::string file = std::filesystem::path(o.model).filename().string();
    if (!parallel.empty()) {
        print_parallel_table(fmt::format("{} | {} | {} | {}", file, format_bytes(size), format_params(info.n_parameters),
                                         info.backend),
                             parallel);
        return;
    }
    fmt::print("| model | size | params | backend | test | t/s | ceiling t/s | % of ceiling |\n");
    fmt::print("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |\n");
    for (const auto& t : tests) {
        fmt::print("| {} | {} | {} | {} | {} | {:.2f} ± {:.2f} | {} | {} |\n", file, format_bytes(size),
                   format_params(info.n_parameters), info.backend, t.name, t.mean, t.sd,
                   t.ceiling ? fmt::format("{:.0f}", *t.ceiling) : "-",
                   percent_of(t.mean, t.ceiling));
    }
}

void print_json(const BenchCliOptions& o, const ModelInfo& info, uint64_t size, const std::optional<DeviceCeilings>& c,
                const std::string& note, const std::vector<TestResult>& tests,
                const std::vector<ParallelTest>& parallel) {
    nlohmann::ordered_json j;
    if (c) {
        j["device"] = {{"name", c->device_name}, {"copy_gb_per_s", c->copy_gb_per_s},
                       {"tensor_tflops", c->tensor_tflops}};
    } else {
        j["device"] = nullptr;
        j["no_ceiling_reason"] = note;
    }
    j["model"] = {{"path", o.model},
                  {"architecture", info.architecture},
                  {"size_bytes", size},
                  {"n_parameters", info.n_parameters},
                  {"weight_bytes_per_token", info.weight_bytes_per_token},
                  {"kv_bytes_per_position", info.kv_bytes_per_position},
                  {"backend", info.backend},
                  {"context_length", info.context_length}};
    j["tests"] = nlohmann::ordered_json::array();
    for (const auto& t : tests) {
        nlohmann::ordered_json row = {{"test", t.name},     {"n_prompt", t.n_prompt},     {"n_gen", t.n_gen},
                                      {"depth", t.depth},   {"reps", t.samples.size()},   {"tokens_per_sec", t.mean},
                                      {"tokens_per_sec_sd", t.sd}, {"samples", t.samples}};
        row["ceiling_tokens_per_sec"] = t.ceiling ? nlohmann::ordered_json(*t.ceiling) : nlohmann::ordered_json();
        row["percent_of_ceiling"] = t.ceiling ? nlohmann::ordered_json(100.0 * t.mean / *t.ceiling)
                                              : nlohmann::ordered_json();
        j["tests"].push_back(std::move(row));
    }
    for (const auto& t : parallel) j["tests"].push_back(parallel_json(t));
    fmt::print("{}\n", j.dump(2));
}

void check_parallel_options(const BenchCliOptions& o) {
    for (uint32_t n : o.parallel)
        if (n == 0) throw Error(ErrorKind::InvalidArgument, "--parallel: every sequence count must be at least 1");
    if (o.n_prompt == 0 || o.n_gen == 0)
        throw Error(ErrorKind::InvalidArgument, "--parallel needs -p and -n of at least 1 (prompts to decode from)");
    if (o.depth > 0) throw Error(ErrorKind::InvalidArgument, "--parallel does not take -d (each prompt is the context)");
}

int run_bench(BenchCliOptions& o) {
    if (o.reps == 0) throw Error(ErrorKind::InvalidArgument, "-r/--reps must be at least 1");
    if (!o.parallel.empty()) check_parallel_options(o);
    if (o.n_prompt == 0 && o.n_gen == 0) throw Error(ErrorKind::InvalidArgument, "nothing to bench: -p and -n are both 0");
    const Backend backend = parse_backend(o.backend);
    o.model = resolve_model(o.model).string();  // a hub or well-known name is downloaded (default_model.h)
    std::string note;
    std::optional<DeviceCeilings> ceilings = device_ceilings(backend, note);

    LoadOptions load;
    load.backend = backend;
    load.n_threads = o.threads;
    // Room for the deepest test (depth + prompt or depth + generation), rounded to whole 256s.
    const uint64_t needed = uint64_t(o.depth) + o.n_prompt + o.n_gen;
    load.context_length = uint32_t((needed + 255) / 256 * 256);
    load.prefill_chunk = std::max<uint32_t>(o.n_prompt, 64);  // the whole prompt in one forward pass
    load.max_sequences = 1;                                   // one sequence: the KV pool is one context
    load.kv_type = o.kv_type;
    load.f16_weight_copies = o.f16_weights;
    if (!o.parallel.empty()) configure_parallel_load(load, o.parallel, o.n_prompt, o.n_gen);
    const uint64_t free_before = gpu_free_bytes();
    InferenceEngine engine;
    try {
        engine.load_model(o.model, load);
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::OutOfMemory || o.parallel.empty()) throw;
        throw Error(ErrorKind::OutOfMemory,
                    fmt::format("--parallel {}: the KV pool must hold {} sequences x {} positions ({} blocks of {}), "
                                "which does not fit: {}",
                                load.max_sequences, load.max_sequences, uint64_t(o.n_prompt) + o.n_gen,
                                load.kv_blocks, load.kv_block_size, e.what()));
    }
    const ModelInfo info = engine.model_info();
    if (info.backend == "cpu" && ceilings) {
        ceilings.reset();
        note = "the model runs on the CPU backend";
    }

    std::vector<TestResult> tests;
    std::vector<ParallelTest> parallel;
    if (!o.parallel.empty()) {
        const std::string suffix =
            std::string(o.kv_type == KvCacheType::Q8_0 ? " kv q8_0" : "") + (o.f16_weights ? " f16 weights" : "");
        for (uint32_t n : o.parallel) {
            parallel.push_back(run_parallel_test(engine, n, o.n_prompt, o.n_gen, o.reps, o.seed, suffix));
            if (ceilings) set_parallel_ceilings(parallel.back(), info, *ceilings);
        }
    } else {
        if (o.n_prompt > 0) tests.push_back(run_test(engine, o, true));
        if (o.n_gen > 0) tests.push_back(run_test(engine, o, false));
        if (ceilings)
            for (auto& t : tests) t.ceiling = test_ceiling(t, info, *ceilings);
    }

    const uint64_t size = tensor_bytes(o.model);
    if (o.json) print_json(o, info, size, ceilings, note, tests, parallel);
    else print_table(o, info, size, ceilings, note, tests, parallel);
    // (The planner's memory model is one context per sequence; the --parallel pool is sized apart.)
    if (info.backend == "cuda" && !o.json && o.parallel.empty()) print_memory_check(o.model, load.context_length, free_before, size);
    return 0;
}

}  // namespace

void register_bench(CLI::App& app, CommandSlot& slot) {
    auto o = std::make_shared<BenchCliOptions>();
    slot.app = app.add_subcommand("bench", "Prompt and generation speed (llama-bench's pp/tg) against the card's ceilings");
    slot.app->add_option("-m,--model", o->model, "GGUF model (make one with `llcuda make-bench-model`)")->required();
    slot.app->add_option("-p,--n-prompt", o->n_prompt, "Prompt tokens of the pp test (0: skip it)")->capture_default_str();
    slot.app->add_option("-n,--n-gen", o->n_gen, "Generated tokens of the tg test (0: skip it)")->capture_default_str();
    slot.app->add_option("-d,--depth", o->depth, "Tokens already in the context before each test")->capture_default_str();
    slot.app->add_option("-r,--reps", o->reps, "Timed repetitions after one warm-up")->capture_default_str();
    slot.app
        ->add_option("--parallel", o->parallel,
                     "Batched test (llama-batched-bench, -np): N sequences read -p tokens each, then decode -n steps "
                     "together; a comma list runs several N, in place of the pp/tg tests")
        ->delimiter(',');
    slot.app->add_option("--backend", o->backend, "auto, cpu or cuda")->capture_default_str();
    slot.app->add_option("-t,--threads", o->threads, "CPU threads (default: all cores)");
    slot.app->add_option("--seed", o->seed, "Seed of the random prompt tokens")->capture_default_str();
    slot.app->add_flag("--json", o->json, "Print the results as JSON");
    slot.app->add_flag("--f16-weights", o->f16_weights,
                       "CUDA: also keep each quantized matrix as f16 for products of many tokens (as serve --f16-weights)");
    slot.app->add_option("--kv-type", o->kv_type, "KV-cache element type on the GPU: f16 or q8_0")
        ->transform(CLI::CheckedTransformer(kv_type_names(), CLI::ignore_case))
        ->default_str("f16");
    slot.run = [o]() { return run_bench(*o); };
}

}  // namespace llcuda::cli
