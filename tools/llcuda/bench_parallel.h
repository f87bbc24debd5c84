// `llcuda bench --parallel N[,N2,...]` (docs/bench.md, "Many sequences at once"): llama-batched-bench's
// figures on the engine's own batching. For each N, N sequences read -p random prompt tokens, then
// take -n greedy decode steps together (one forward pass per step for all N), through
// InferenceEngine::bench_parallel. Per N:
//   S_PP = N x p / prompt time, S_TG = N x n / decode time, and the mean decode step in ms;
//   decode ceiling = N x copy bandwidth / (weight bytes per step + N x KV bytes per position x mean
//   context): the weights are read once per step for all N sequences, the KV of each separately.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "llcuda/devices.h"
#include "llcuda/engine.h"

namespace llcuda::cli {

struct ParallelTest {
    std::string name;  // "pp512+tg128 x16"
    uint32_t n_seq = 0, n_prompt = 0, n_gen = 0;
    // One entry per timed repetition:
    std::vector<double> pp_samples;  // S_PP, tokens per second
    std::vector<double> tg_samples;  // S_TG, tokens per second
    std::vector<double> step_ms;     // decode time / n_gen
    std::optional<double> pp_ceiling, tg_ceiling;  // tokens per second
};

// Load options for the largest N: N sequences computed together, a KV pool of N x (p + n)
// positions (at least one context), the context rounded up to whole 256s and each prompt in one
// chunk (prefill_chunk = max(p, 64)), as the pp test loads.
void configure_parallel_load(LoadOptions& load, const std::vector<uint32_t>& n_seqs, uint32_t n_prompt, uint32_t n_gen);

// A warm-up call, then `reps` timed calls with seeds seed + 1 ... seed + reps. `suffix` is appended
// to the row name (" kv q8_0").
ParallelTest run_parallel_test(InferenceEngine& engine, uint32_t n_seq, uint32_t n_prompt, uint32_t n_gen,
                               uint32_t reps, uint64_t seed, const std::string& suffix);

// Fills pp_ceiling (as the pp test's) and tg_ceiling (see the file comment).
void set_parallel_ceilings(ParallelTest& t, const ModelInfo& info, const DeviceCeilings& c);

// Rows of the markdown table (header included), `prefix` being the model, size, params and backend
// cells each row starts with.
void print_parallel_table(const std::string& prefix, const std::vector<ParallelTest>& tests);
nlohmann::ordered_json parallel_json(const ParallelTest& t);

}  // namespace llcuda::cli
