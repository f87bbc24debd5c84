// The scheduler (docs/scheduler.md): concurrent calls on one engine are batched together and give
// exactly the greedy tokens each gives alone; a prefix-cache hit changes nothing but the work done;
// a pool too small for everyone preempts and recomputes without changing any output; cancelled
// requests give their KV blocks back at once. All on the real SmolLM2 model (CPU).
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "llcuda/engine.h"
#include "llcuda/error.h"
#include "test_paths.h"

namespace llcuda {
namespace {

const std::vector<std::string> kPrompts = {
    "The capital of France is",
    "Once upon a time, in a small village,",
    "def fibonacci(n):",
    "The three primary colours are",
    "Water boils at",
    "My favourite book is",
};

SamplingParams greedy(uint32_t n) {
    SamplingParams p;
    p.temperature = 0;
    p.max_tokens = n;
    p.ignore_eos = true;  // every request runs its full length, so the batches stay mixed
    return p;
}

LoadOptions cpu_options(uint32_t ctx, uint32_t max_sequences) {
    LoadOptions o;
    o.backend = Backend::Cpu;
    o.context_length = ctx;
    o.n_threads = 2;
    o.prefill_chunk = 8;
    o.max_sequences = max_sequences;
    return o;
}

// One engine without batching or caching: the reference of every test here.
std::vector<InferenceResult> alone_results(const std::vector<std::string>& prompts, const SamplingParams& p) {
    LoadOptions o = cpu_options(128, 1);
    o.prefix_cache = false;
    InferenceEngine engine;
    engine.load_model(test::smollm2_path(), o);
    std::vector<InferenceResult> out;
    for (const auto& prompt : prompts) out.push_back(engine.infer(prompt, p));
    return out;
}

std::vector<InferenceResult> run_concurrently(InferenceEngine& engine, const std::vector<std::string>& prompts,
                                              const SamplingParams& p) {
    std::vector<InferenceResult> results(prompts.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < prompts.size(); ++i) {
        threads.emplace_back([&, i] { results[i] = engine.infer(prompts[i], p); });
    }
    for (auto& t : threads) t.join();
    return results;
}

TEST(Scheduler, ConcurrentCallsAreBatchedAndMatchEachAlone) {
    LLCUDA_REQUIRE_FILE(test::smollm2_path());
    const auto reference = alone_results(kPrompts, greedy(10));
    InferenceEngine engine;
    engine.load_model(test::smollm2_path(), cpu_options(128, 4));
    const auto results = run_concurrently(engine, kPrompts, greedy(10));
    for (size_t i = 0; i < kPrompts.size(); ++i) {
        EXPECT_EQ(results[i].tokens, reference[i].tokens) << kPrompts[i];
        EXPECT_EQ(results[i].text, reference[i].text) << kPrompts[i];
        EXPECT_EQ(results[i].n_generated_tokens, 10u);
    }
    // Six requests of 10 tokens need 60 decode steps one at a time; batched, far fewer passes ran.
    const SchedulerStats st = engine.scheduler_stats();
    EXPECT_LT(st.steps, 50u) << "the concurrent calls were not batched";
    EXPECT_EQ(st.kv_blocks_used, 0u);
    EXPECT_EQ(st.running + st.waiting, 0u);
    EXPECT_EQ(st.kv_blocks_used + st.kv_blocks_cached + st.kv_blocks_free, st.kv_blocks_total);
}

TEST(Scheduler, PrefixCacheHitGivesIdenticalOutput) {
    LLCUDA_REQUIRE_FILE(test::smollm2_path());
    const std::string shared = "You are a helpful assistant who answers questions about geography briefly. ";
    const std::vector<std::string> prompts = {shared + "The capital of France is", shared + "The capital of Italy is"};
    const auto reference = alone_results(prompts, greedy(8));
    InferenceEngine engine;
    LoadOptions o = cpu_options(128, 2);
    o.kv_block_size = 4;
    engine.load_model(test::smollm2_path(), o);
    const auto first = engine.infer(prompts[0], greedy(8));
    EXPECT_EQ(first.n_cached_prompt_tokens, 0u);
    const auto again = engine.infer(prompts[0], greedy(8));
    const auto other = engine.infer(prompts[1], greedy(8));
    EXPECT_EQ(first.tokens, reference[0].tokens);
    EXPECT_EQ(again.tokens, reference[0].tokens);
    EXPECT_EQ(other.tokens, reference[1].tokens);
    // The repeat reuses every full block but the one holding its last token; the other prompt
    // reuses the blocks of the shared start.
    EXPECT_GE(again.n_cached_prompt_tokens + 4, again.n_prompt_tokens - 1);
    EXPECT_EQ(again.n_cached_prompt_tokens % 4, 0u);
    EXPECT_GT(other.n_cached_prompt_tokens, 8u);
    EXPECT_LT(other.n_cached_prompt_tokens, other.n_prompt_tokens);
    const SchedulerStats st = engine.scheduler_stats();
    EXPECT_EQ(st.prefix_cache_hits, uint64_t(again.n_cached_prompt_tokens) + other.n_cached_prompt_tokens);
    EXPECT_GT(st.kv_blocks_cached, 0u);
    EXPECT_EQ(st.kv_blocks_used, 0u);
}

TEST(Scheduler, TinyPoolPreemptsAndStillGivesEveryRequestItsTokens) {
    LLCUDA_REQUIRE_FILE(test::smollm2_path());
    const auto reference = alone_results(kPrompts, greedy(24));
    InferenceEngine engine;
    LoadOptions o = cpu_options(64, 4);
    o.kv_block_size = 8;
    o.kv_blocks = 8;  // one context of 64: four requests of ~35 positions cannot all fit
    engine.load_model(test::smollm2_path(), o);
    const auto results = run_concurrently(engine, kPrompts, greedy(24));
    for (size_t i = 0; i < kPrompts.size(); ++i) {
        EXPECT_EQ(results[i].tokens, reference[i].tokens) << kPrompts[i];
        EXPECT_EQ(results[i].finish_reason, FinishReason::Length);
    }
    const SchedulerStats st = engine.scheduler_stats();
    EXPECT_GT(st.preemptions, 0u) << "the pool was meant to run out";
    EXPECT_EQ(st.kv_blocks_used, 0u);
}

TEST(Scheduler, CancelledRequestsFreeTheirBlocksAtOnce) {
    LLCUDA_REQUIRE_FILE(test::smollm2_path());
    InferenceEngine engine;
    // The CPU default: 4 sequences sharing a pool of one context (8 blocks of 16), so cancellations
    // and preemptions mix.
    engine.load_model(test::smollm2_path(), cpu_options(128, 0));
    EXPECT_EQ(engine.scheduler_stats().kv_blocks_total, 8u);
    std::atomic<int> n_cancelled{0};
    std::vector<std::thread> threads;
    for (size_t i = 0; i < kPrompts.size(); ++i) {
        threads.emplace_back([&, i] {
            int pieces = 0;
            const auto r = engine.infer_stream(kPrompts[i], greedy(40), [&](std::string_view) {
                return ++pieces < int(i % 3) + 1;  // stop after 1, 2 or 3 pieces
            });
            if (r.finish_reason == FinishReason::Cancelled) ++n_cancelled;
            EXPECT_LE(r.n_generated_tokens, 40u);
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(n_cancelled.load(), int(kPrompts.size()));
    const SchedulerStats st = engine.scheduler_stats();
    EXPECT_EQ(st.kv_blocks_used, 0u);
    EXPECT_EQ(st.running + st.waiting, 0u);
    // The engine still serves.
    EXPECT_EQ(engine.infer(kPrompts[0], greedy(3)).n_generated_tokens, 3u);
}

TEST(Scheduler, PoolSmallerThanOneContextIsRejected) {
    LLCUDA_REQUIRE_FILE(test::smollm2_path());
    InferenceEngine engine;
    LoadOptions o = cpu_options(64, 1);
    o.kv_block_size = 8;
    o.kv_blocks = 7;
    EXPECT_THROW(engine.load_model(test::smollm2_path(), o), Error);
}

}  // namespace
}  // namespace llcuda
