// InferenceEngine on the real SmolLM2 model: determinism, seeds, streaming, stop strings, limits,
// metrics, and clear errors for bad models and bad requests.
#include <filesystem>

#include <gtest/gtest.h>

#include "llcuda/engine.h"
#include "llcuda/error.h"
#include "llcuda/gguf.h"
#include "temp_dir.h"
#include "test_paths.h"

namespace llcuda {
namespace {

namespace fs = std::filesystem;

LoadOptions small_options(uint32_t ctx = 256) {
    LoadOptions o;
    o.backend = Backend::Cpu;
    o.context_length = ctx;
    o.n_threads = 2;
    return o;
}

SamplingParams greedy(uint32_t n) {
    SamplingParams p;
    p.temperature = 0;
    p.max_tokens = n;
    return p;
}

ErrorKind load_error(const fs::path& path, const std::string& fragment) {
    InferenceEngine e;
    try {
        e.load_model(path, small_options());
    } catch (const Error& err) {
        EXPECT_NE(std::string(err.what()).find(fragment), std::string::npos) << err.what();
        EXPECT_FALSE(e.is_loaded());
        return err.kind();
    }
    ADD_FAILURE() << "load_model succeeded";
    return ErrorKind::Internal;
}

class SmolLM2 : public ::testing::Test {
protected:
    void SetUp() override {
        LLCUDA_REQUIRE_FILE(test::smollm2_path());
        engine.load_model(test::smollm2_path(), small_options());
    }
    InferenceEngine engine;
};

TEST_F(SmolLM2, GreedyGenerationIsDeterministicAndRespectsMaxTokens) {
    const auto a = engine.infer("The capital of France is", greedy(6));
    const auto b = engine.infer("The capital of France is", greedy(6));
    EXPECT_EQ(a.text, b.text);
    EXPECT_EQ(a.tokens, b.tokens);
    EXPECT_EQ(a.n_generated_tokens, 6u);
    EXPECT_EQ(a.finish_reason, FinishReason::Length);
    EXPECT_EQ(a.n_prompt_tokens, engine.tokenize("The capital of France is").size());
    EXPECT_EQ(engine.detokenize(a.tokens), a.text);
    EXPECT_NE(a.text.find("Paris"), std::string::npos) << a.text;
}

TEST_F(SmolLM2, SameSeedSameText) {
    SamplingParams p;
    p.temperature = 1.0f;
    p.max_tokens = 8;
    p.seed = 42;
    const auto a = engine.infer("Once upon a time", p);
    const auto b = engine.infer("Once upon a time", p);
    EXPECT_EQ(a.text, b.text);
}

TEST_F(SmolLM2, StreamedPiecesConcatenateToTheResult) {
    std::string streamed;
    int n_pieces = 0;
    const auto r = engine.infer_stream("Once upon a time", greedy(8), [&](std::string_view piece) {
        streamed += piece;
        ++n_pieces;
        return true;
    });
    EXPECT_EQ(streamed, r.text);
    EXPECT_GT(n_pieces, 1);
    const auto cancelled = engine.infer_stream("Once upon a time", greedy(8), [](std::string_view) { return false; });
    EXPECT_EQ(cancelled.finish_reason, FinishReason::Cancelled);
    EXPECT_EQ(cancelled.n_generated_tokens, 1u);
}

TEST_F(SmolLM2, StopStringEndsTheTextBeforeIt) {
    const auto full = engine.infer("Once upon a time", greedy(10));
    ASSERT_GT(full.text.size(), 6u);
    SamplingParams p = greedy(10);
    p.stop = {full.text.substr(full.text.size() / 2, 3)};
    const auto r = engine.infer("Once upon a time", p);
    EXPECT_EQ(r.finish_reason, FinishReason::StopString);
    EXPECT_EQ(r.text, full.text.substr(0, full.text.find(p.stop[0])));
}

TEST_F(SmolLM2, LogprobsAndMetrics) {
    SamplingParams p = greedy(4);
    p.logprobs = 3;
    const auto r = engine.infer("Hello", p);
    ASSERT_EQ(r.logprobs.size(), r.n_generated_tokens);
    for (size_t i = 0; i < r.logprobs.size(); ++i) {
        EXPECT_EQ(r.logprobs[i].token, r.tokens[i]);
        ASSERT_EQ(r.logprobs[i].top.size(), 3u);
        EXPECT_EQ(r.logprobs[i].top[0].first, r.tokens[i]);  // greedy picks the most likely
        EXPECT_LE(r.logprobs[i].logprob, 0.0f);
    }
    const EngineMetrics m = engine.metrics();
    EXPECT_EQ(m.n_requests, 1u);
    EXPECT_EQ(m.n_generated_tokens, r.n_generated_tokens);
    EXPECT_GT(m.mean_latency_ms, 0.0);
}

TEST_F(SmolLM2, BatchInferMatchesSingleCalls) {
    const auto batch = engine.batch_infer({"The sky is", "One, two,"}, greedy(4));
    ASSERT_EQ(batch.size(), 2u);
    EXPECT_EQ(batch[0].text, engine.infer("The sky is", greedy(4)).text);
    EXPECT_EQ(batch[1].text, engine.infer("One, two,", greedy(4)).text);
}

TEST_F(SmolLM2, ChatUsesTheModelTemplate) {
    const std::string prompt = engine.apply_chat_template({{"user", "Hi"}}, true);
    EXPECT_NE(prompt.find("<|im_start|>user\nHi<|im_end|>"), std::string::npos) << prompt;
    const auto r = engine.chat({{"user", "What is the capital of France?"}}, greedy(12));
    EXPECT_GT(r.n_generated_tokens, 0u);
    EXPECT_EQ(r.text.find("<|im_end|>"), std::string::npos);
}

TEST_F(SmolLM2, BadRequestsAreClearErrorsAndTheEngineStaysUsable) {
    std::string long_prompt;
    for (int i = 0; i < 400; ++i) long_prompt += "word ";
    try {
        engine.infer(long_prompt, greedy(4));
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
        EXPECT_NE(std::string(e.what()).find("context holds 256"), std::string::npos) << e.what();
    }
    SamplingParams bad = greedy(4);
    bad.top_p = 2.0f;
    EXPECT_THROW(engine.infer("hi", bad), Error);
    EXPECT_EQ(engine.infer("The capital of France is", greedy(3)).n_generated_tokens, 3u);
}

TEST(Engine, GenerationStopsWhenTheContextIsFull) {
    LLCUDA_REQUIRE_FILE(test::smollm2_path());
    InferenceEngine e;
    e.load_model(test::smollm2_path(), small_options(16));
    const auto prompt = e.tokenize("One two three four five six");
    SamplingParams p = greedy(100);
    p.ignore_eos = true;
    const auto r = e.infer("One two three four five six", p);
    EXPECT_EQ(r.finish_reason, FinishReason::Length);
    EXPECT_EQ(r.n_prompt_tokens + r.n_generated_tokens, 16u);
}

TEST(Engine, LoadErrorsNameTheProblem) {
    EXPECT_EQ(load_error("/nonexistent/model.gguf", "/nonexistent/model.gguf"), ErrorKind::NotFound);
    InferenceEngine unloaded;
    EXPECT_THROW(unloaded.infer("x"), Error);

    const test::TempDir dir;
    const fs::path unknown = dir / "unknown-arch.gguf";
    GgufWriter w;
    w.set("general.architecture", GgufValue::string("mamba9"));
    w.write(unknown);
    EXPECT_EQ(load_error(unknown, "architecture 'mamba9' is not supported"), ErrorKind::Unsupported);
    fs::remove(unknown);

    LLCUDA_REQUIRE_FILE(test::smollm2_path());
    const GgufFile model = GgufFile::open(test::smollm2_path());
    const fs::path missing = dir / "missing-tensor.gguf";
    GgufWriter copy;
    for (const auto& kv : model.contents().kvs) copy.set(kv.key, kv.value);
    for (const auto& t : model.contents().tensors) {
        if (t.name == "blk.3.attn_q.weight") continue;
        copy.add_tensor(t.name, t.type, std::span<const uint64_t>(t.ne.data(), t.n_dims), model.tensor_data(t));
    }
    copy.write(missing);
    EXPECT_EQ(load_error(missing, "tensor 'blk.3.attn_q.weight' is missing"), ErrorKind::FormatError);
    fs::remove(missing);
}

}  // namespace
}  // namespace llcuda
