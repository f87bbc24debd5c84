// InferenceEngine::bench_parallel: llama-batched-bench's test on the engine's own batching. N
// sequences read random prompts, then decode together, one token each per forward pass, the way
// the scheduler (engine/scheduler.h) runs N generating requests, without the HTTP or sampler layers
// in the way. Greedy ids come from the backend's argmax, as in bench()'s tg test.
#include <algorithm>
#include <chrono>
#include <mutex>
#include <random>
#include <span>
#include <vector>

#include <fmt/format.h>

#include "engine/engine_state.h"
#include "llcuda/engine.h"
#include "llcuda/error.h"

namespace llcuda {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// The KV sequences of one call, freed however the call ends.
struct Sequences {
    KvBlockTable& kv;
    std::vector<KvBlockTable::SeqId> ids;
    ~Sequences() {
        for (auto id : ids) kv.free_sequence(id);
    }
};

void check_request(const InferenceEngine::State& s, uint32_t n_seq, uint32_t n_prompt, uint32_t n_gen) {
    if (n_seq == 0) throw Error(ErrorKind::InvalidArgument, "bench_parallel: no sequences (n_seq = 0)");
    if (n_prompt == 0) {
        throw Error(ErrorKind::InvalidArgument, "bench_parallel: a prompt of at least one token is needed to decode from");
    }
    if (n_seq > s.options.max_sequences) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("bench_parallel: {} sequences, but the engine was loaded to compute at most {} "
                                "together (LoadOptions::max_sequences)",
                                n_seq, s.options.max_sequences));
    }
    if (uint64_t(n_prompt) + n_gen > s.n_ctx) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("bench_parallel: each sequence needs {} positions but the context holds {}",
                                uint64_t(n_prompt) + n_gen, s.n_ctx));
    }
}

}  // namespace

BenchParallelResult InferenceEngine::bench_parallel(uint32_t n_seq, uint32_t n_prompt, uint32_t n_gen, uint64_t seed) {
    if (!state_) throw Error(ErrorKind::InvalidArgument, "no model is loaded (call load_model first)");
    State& s = *state_;
    check_request(s, n_seq, n_prompt, n_gen);
    std::lock_guard lock(s.mutex);  // the scheduler's steps wait, as for bench()

    BenchParallelResult out;
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int32_t> pick(0, int32_t(s.config.n_vocab) - 1);
    out.prompts.assign(n_seq, std::vector<int32_t>(n_prompt));
    for (auto& p : out.prompts)
        for (auto& t : p) t = pick(rng);
    out.generated.assign(n_seq, {});

    KvBlockTable& kv = *s.kv;
    const uint32_t positions = n_prompt + n_gen;  // the last generated id is never fed
    Sequences seqs{kv, {}};
    for (uint32_t i = 0; i < n_seq; ++i) {
        seqs.ids.push_back(kv.create_sequence());
        try {
            kv.reserve(seqs.ids.back(), positions);
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::OutOfMemory) throw;
            throw Error(ErrorKind::OutOfMemory,
                        fmt::format("bench_parallel: {} sequences of {} positions need {} KV blocks of {} but the pool "
                                    "holds {} (load with kv_blocks >= {})",
                                    n_seq, positions, uint64_t(n_seq) * kv.blocks_for(positions),
                                    kv.shape().block_size, kv.shape().n_blocks, uint64_t(n_seq) * kv.blocks_for(positions)));
        }
    }
    // Page tables are taken once every reservation is made (a later one never touches them).
    std::vector<std::span<const uint32_t>> tables;
    for (auto id : seqs.ids) tables.push_back(kv.blocks(id));

    // Prompts, packed as the scheduler packs a step without decode tokens: in sequence order, each
    // sequence with prompt left gets a chunk of at most prefill_chunk tokens while the pass has room
    // (max_step_tokens). A pass in which prompts end reduces their rows to ids at once (its logits
    // are gone after the next pass).
    std::vector<uint32_t> fed(n_seq, 0);  // (n_seq) prompt tokens already in each sequence's cache
    s.backend->argmax();                  // drains the device queue before the clock starts
    const auto t_prompt = Clock::now();
    for (uint32_t first = 0; first < n_seq;) {  // sequences before `first` have read their prompt
        Batch b;
        std::vector<uint32_t> ending;  // sequences whose prompt ends in this pass, in row order
        uint32_t budget = s.max_step_tokens;
        // Sequences from `first` on all have prompt left: an earlier one is always as far along.
        for (uint32_t k = first; k < n_seq && budget > 0; ++k) {
            const uint32_t n = std::min({n_prompt - fed[k], budget, s.options.prefill_chunk});
            const bool last = fed[k] + n == n_prompt;
            b.sequences.push_back(
                {std::span<const int32_t>(out.prompts[k]).subspan(fed[k], n), fed[k], tables[k], last ? 1u : 0u});
            if (last) ending.push_back(k);
            fed[k] += n;
            budget -= n;
        }
        s.backend->forward(b);
        if (!ending.empty()) {
            const std::vector<int32_t> ids = s.backend->argmax();
            if (ids.size() != ending.size()) {
                throw Error(ErrorKind::Internal,
                            fmt::format("bench_parallel: {} logits rows, {} expected", ids.size(), ending.size()));
            }
            for (size_t r = 0; r < ending.size(); ++r) out.generated[ending[r]].push_back(ids[r]);
        }
        while (first < n_seq && fed[first] == n_prompt) ++first;
    }  // the last pass ends a prompt, so its argmax has synchronized the device: the time is final
    out.prompt_ms = ms_since(t_prompt);

    // Decode: step i feeds every sequence's latest id at position n_prompt + i, in one pass.
    std::vector<int32_t> feed(n_seq);  // (n_seq) the ids this step reads; the batch's spans point here
    const auto t_gen = Clock::now();
    for (uint32_t i = 0; i < n_gen; ++i) {
        Batch b;
        for (uint32_t k = 0; k < n_seq; ++k) {
            feed[k] = out.generated[k].back();
            b.sequences.push_back({std::span<const int32_t>(&feed[k], 1), n_prompt + i, tables[k], 1});
        }
        s.backend->forward(b);
        const std::vector<int32_t> ids = s.backend->argmax();  // the ids cross to the host, as in serving
        if (ids.size() != n_seq) {
            throw Error(ErrorKind::Internal, fmt::format("bench_parallel: {} logits rows, {} expected", ids.size(), n_seq));
        }
        for (uint32_t k = 0; k < n_seq; ++k) out.generated[k].push_back(ids[k]);
    }
    out.generate_ms = n_gen ? ms_since(t_gen) : 0.0;
    return out;
}

}  // namespace llcuda
