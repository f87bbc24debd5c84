// InferenceEngine::generate's still_wanted (docs/scheduler.md): a call whose caller stops wanting it
// is cancelled within a poll or two, while still queued (it never runs, and it leaves the queue
// without waiting for the request ahead of it) or while running without streaming (its KV blocks
// return at once). On the real SmolLM2 model (CPU), one sequence at a time.
#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "llcuda/engine.h"
#include "test_paths.h"

namespace llcuda {
namespace {

using Clock = std::chrono::steady_clock;

SamplingParams greedy(uint32_t n) {
    SamplingParams p;
    p.temperature = 0;
    p.max_tokens = n;
    p.ignore_eos = true;
    return p;
}

// Polls the scheduler until `done` holds, for at most 20 s; false on timeout.
template <class Pred>
bool wait_for(const InferenceEngine& engine, Pred done) {
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (!done(engine.scheduler_stats())) {
        if (Clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

class StillWanted : public ::testing::Test {
protected:
    void SetUp() override {
        LLCUDA_REQUIRE_FILE(test::smollm2_path());
        LoadOptions o;
        o.backend = Backend::Cpu;
        o.context_length = 512;
        o.n_threads = 2;
        o.max_sequences = 1;  // a second request waits for the first
        engine.load_model(test::smollm2_path(), o);
        prompt = engine.tokenize("Once upon a time,");
    }
    InferenceEngine engine;
    std::vector<int32_t> prompt;
};

TEST_F(StillWanted, AQueuedCallLeavesTheQueueWithoutRunning) {
    // The first request holds the one sequence for ~480 decode steps (seconds on the CPU).
    std::atomic<bool> first_done{false}, abandon{false};
    std::thread first([&] {
        engine.generate(prompt, greedy(480), nullptr, [&] { return !abandon.load(); });
        first_done = true;
    });
    ASSERT_TRUE(wait_for(engine, [](const SchedulerStats& s) { return s.running == 1; }));

    std::atomic<bool> want_second{true};
    InferenceResult second;
    Clock::time_point returned;
    std::thread waiter([&] {
        second = engine.generate(prompt, greedy(20), nullptr, [&] { return want_second.load(); });
        returned = Clock::now();
    });
    ASSERT_TRUE(wait_for(engine, [](const SchedulerStats& s) { return s.waiting == 1; }));
    const auto abandoned = Clock::now();
    want_second = false;
    waiter.join();
    EXPECT_FALSE(first_done.load()) << "the queued call waited for the one ahead of it";
    EXPECT_LT(returned - abandoned, std::chrono::seconds(1));
    EXPECT_EQ(second.finish_reason, FinishReason::Cancelled);
    EXPECT_EQ(second.n_generated_tokens, 0u);
    EXPECT_TRUE(second.text.empty());
    // The stats are updated at the end of the step that dropped it.
    EXPECT_TRUE(wait_for(engine, [](const SchedulerStats& st) { return st.waiting == 0; }));
    EXPECT_EQ(engine.scheduler_stats().running, 1u);
    EXPECT_FALSE(first_done.load());

    abandon = true;  // the running, non-streamed first request: cancelled and its blocks freed
    first.join();
    EXPECT_TRUE(wait_for(engine, [](const SchedulerStats& st) { return st.running == 0 && st.kv_blocks_used == 0; }));
}

TEST_F(StillWanted, ARunningCallStopsShortAndTheEngineGoesOn) {
    std::atomic<int> polls{0};
    const auto t0 = Clock::now();
    // Unwanted from the fifth poll on (about 0.25 s): far fewer than 480 tokens were made by then.
    const InferenceResult r = engine.generate(prompt, greedy(480), nullptr, [&] { return ++polls < 5; });
    EXPECT_EQ(r.finish_reason, FinishReason::Cancelled);
    EXPECT_GE(polls.load(), 5);
    EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(200)) << "asked more often than every 50 ms";
    EXPECT_TRUE(wait_for(engine, [](const SchedulerStats& s) {
        return s.kv_blocks_used == 0 && s.running + s.waiting == 0;
    }));
    // An empty still_wanted is never asked; the engine still serves.
    EXPECT_EQ(engine.generate(prompt, greedy(3), nullptr, {}).n_generated_tokens, 3u);
}

}  // namespace
}  // namespace llcuda
