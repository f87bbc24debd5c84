// Batched generation: prompts run together in one forward pass per step must give exactly the
// tokens each gives alone (greedy), whatever mix of prompt chunks and decode tokens a step carries.
#include <gtest/gtest.h>

#include "llcuda/engine.h"
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
    "In 1969, the first person to walk on the Moon",
    "A haiku about autumn:",
};

SamplingParams greedy(uint32_t n) {
    SamplingParams p;
    p.temperature = 0;
    p.max_tokens = n;
    return p;
}

TEST(BatchedGeneration, EightPromptsTogetherMatchEachAlone) {
    LLCUDA_REQUIRE_FILE(test::smollm2_path());
    LoadOptions o;
    o.backend = Backend::Cpu;
    o.context_length = 128;
    o.n_threads = 2;
    o.prefill_chunk = 5;  // prompts span several chunks, so steps mix prompt chunks with decode tokens
    o.max_sequences = 8;
    InferenceEngine engine;
    engine.load_model(test::smollm2_path(), o);
    const auto together = engine.batch_infer(kPrompts, greedy(12));
    ASSERT_EQ(together.size(), kPrompts.size());
    for (size_t i = 0; i < kPrompts.size(); ++i) {
        const auto alone = engine.infer(kPrompts[i], greedy(12));
        EXPECT_EQ(together[i].tokens, alone.tokens) << kPrompts[i];
        EXPECT_EQ(together[i].text, alone.text) << kPrompts[i];
        EXPECT_EQ(together[i].finish_reason, alone.finish_reason) << kPrompts[i];
        EXPECT_GT(together[i].n_generated_tokens, 0u) << kPrompts[i];
    }
}

TEST(BatchedGeneration, MoreRequestsThanSequencesRunInWaves) {
    LLCUDA_REQUIRE_FILE(test::smollm2_path());
    LoadOptions o;
    o.backend = Backend::Cpu;
    o.context_length = 96;
    o.n_threads = 2;
    o.max_sequences = 3;
    InferenceEngine engine;
    engine.load_model(test::smollm2_path(), o);
    const auto together = engine.batch_infer(kPrompts, greedy(4));
    ASSERT_EQ(together.size(), kPrompts.size());
    for (size_t i = 0; i < kPrompts.size(); ++i) {
        EXPECT_EQ(together[i].tokens, engine.infer(kPrompts[i], greedy(4)).tokens) << kPrompts[i];
    }
}

}  // namespace
}  // namespace llcuda
