#include "bench_parallel.h"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "bench_math.h"
#include "llcuda/error.h"

namespace llcuda::cli {
namespace {

nlohmann::ordered_json optional_json(const std::optional<double>& v) {
    return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json();
}

}  // namespace

void configure_parallel_load(LoadOptions& load, const std::vector<uint32_t>& n_seqs, uint32_t n_prompt, uint32_t n_gen) {
    const uint32_t most = *std::max_element(n_seqs.begin(), n_seqs.end());
    const uint64_t positions = uint64_t(n_prompt) + n_gen;
    load.context_length = uint32_t((positions + 255) / 256 * 256);
    load.prefill_chunk = std::max<uint32_t>(n_prompt, 64);
    load.max_sequences = most;
    const uint64_t block = load.kv_block_size;
    const uint64_t blocks = std::max(uint64_t(most) * ((positions + block - 1) / block),  // every sequence
                                     (uint64_t(load.context_length) + block - 1) / block);  // one context
    if (blocks > UINT32_MAX)
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("--parallel {}: {} KV blocks are more than the pool can index", most, blocks));
    load.kv_blocks = uint32_t(blocks);
}

ParallelTest run_parallel_test(InferenceEngine& engine, uint32_t n_seq, uint32_t n_prompt, uint32_t n_gen,
                               uint32_t reps, uint64_t seed, const std::string& suffix) {
    ParallelTest t;
    t.n_seq = n_seq;
    t.n_prompt = n_prompt;
    t.n_gen = n_gen;
    t.name = fmt::format("pp{}+tg{} x{}{}", n_prompt, n_gen, n_seq, suffix);
    fmt::print(stderr, "{}: warm-up and {} runs...\n", t.name, reps);
    engine.bench_parallel(n_seq, n_prompt, n_gen, seed);
    for (uint32_t r = 0; r < reps; ++r) {
        const BenchParallelResult res = engine.bench_parallel(n_seq, n_prompt, n_gen, seed + 1 + r);
        if (!(res.prompt_ms > 0) || !(res.generate_ms > 0)) {
            throw Error(ErrorKind::Internal, fmt::format("{}: the engine reported {} ms for the prompts and {} ms for "
                                                         "the decode steps",
                                                         t.name, res.prompt_ms, res.generate_ms));
        }
        t.pp_samples.push_back(double(n_seq) * n_prompt / (res.prompt_ms * 1e-3));
        t.tg_samples.push_back(double(n_seq) * n_gen / (res.generate_ms * 1e-3));
        t.step_ms.push_back(res.generate_ms / n_gen);
    }
    return t;
}

void set_parallel_ceilings(ParallelTest& t, const ModelInfo& info, const DeviceCeilings& c) {
    t.pp_ceiling = prefill_ceiling(info, c);
    t.tg_ceiling = decode_ceiling(info, c, t.n_seq, t.n_prompt, t.n_gen);
}

void print_parallel_table(const std::string& prefix, const std::vector<ParallelTest>& tests) {
    fmt::print("| model | size | params | backend | test | S_PP t/s | PP % of ceiling | S_TG t/s | step ms | "
               "TG ceiling t/s | TG % of ceiling |\n");
    fmt::print("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (const auto& t : tests) {
        const MeanSd pp = mean_sd(t.pp_samples), tg = mean_sd(t.tg_samples), step = mean_sd(t.step_ms);
        fmt::print("| {} | {} | {:.2f} ± {:.2f} | {} | {:.2f} ± {:.2f} | {:.3f} | {} | {} |\n", prefix, t.name, pp.mean,
                   pp.sd, percent_of(pp.mean, t.pp_ceiling), tg.mean, tg.sd, step.mean,
                   t.tg_ceiling ? fmt::format("{:.0f}", *t.tg_ceiling) : "-", percent_of(tg.mean, t.tg_ceiling));
    }
}

nlohmann::ordered_json parallel_json(const ParallelTest& t) {
    const MeanSd pp = mean_sd(t.pp_samples), tg = mean_sd(t.tg_samples), step = mean_sd(t.step_ms);
    nlohmann::ordered_json row = {{"test", t.name},
                                  {"n_seq", t.n_seq},
                                  {"n_prompt", t.n_prompt},
                                  {"n_gen", t.n_gen},
                                  {"reps", t.tg_samples.size()},
                                  {"prompt_tokens", uint64_t(t.n_seq) * t.n_prompt},
                                  {"generated_tokens", uint64_t(t.n_seq) * t.n_gen},
                                  {"prompt_tokens_per_sec", pp.mean},
                                  {"prompt_tokens_per_sec_sd", pp.sd},
                                  {"prompt_samples", t.pp_samples},
                                  {"gen_tokens_per_sec", tg.mean},
                                  {"gen_tokens_per_sec_sd", tg.sd},
                                  {"gen_samples", t.tg_samples},
                                  {"step_ms", step.mean},
                                  {"step_ms_sd", step.sd},
                                  {"step_ms_samples", t.step_ms}};
    row["prompt_ceiling_tokens_per_sec"] = optional_json(t.pp_ceiling);
    row["prompt_percent_of_ceiling"] = t.pp_ceiling ? nlohmann::ordered_json(100.0 * pp.mean / *t.pp_ceiling)
                                                    : nlohmann::ordered_json();
    row["gen_ceiling_tokens_per_sec"] = optional_json(t.tg_ceiling);
    row["gen_percent_of_ceiling"] = t.tg_ceiling ? nlohmann::ordered_json(100.0 * tg.mean / *t.tg_ceiling)
                                                 : nlohmann::ordered_json();
    return row;
}

}  // namespace llcuda::cli
