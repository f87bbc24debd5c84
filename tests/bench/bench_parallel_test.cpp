// InferenceEngine::bench_parallel (`llcuda bench --parallel`) on the tiny bench model, CPU backend:
// N sequences decoded together in one forward pass per step must produce, for every sequence,
// exactly the greedy tokens that sequence gets when it runs alone through the ordinary generation
// path (scheduler and sampler); the KV pool's limits are clear errors that leave the engine usable.
#include <filesystem>
#include <set>
#include <unistd.h>

#include <gtest/gtest.h>

#include "llcuda/bench_model.h"
#include "llcuda/engine.h"
#include "llcuda/error.h"

namespace llcuda {
namespace {

namespace fs = std::filesystem;

// The tiny model (2 layers, vocabulary 512), written once for the whole suite.
class BenchParallel : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = fs::temp_directory_path() / ("llcuda_bench_parallel_" + std::to_string(::getpid()));
        fs::create_directories(dir_);
        BenchModelOptions o;
        o.shape = "tiny";
        o.type = "Q8_0";
        write_bench_model(model(), o);
    }
    static void TearDownTestSuite() { fs::remove_all(dir_); }
    static fs::path model() { return dir_ / "tiny.gguf"; }

    static LoadOptions cpu_load() {
        LoadOptions load;
        load.backend = Backend::Cpu;
        load.context_length = 128;
        load.n_threads = 2;
        return load;
    }

private:
    static inline fs::path dir_;
};

TEST_F(BenchParallel, BatchedGreedyEqualsEachSequenceAlone) {
    LoadOptions load = cpu_load();
    load.max_sequences = 4;
    // Passes of at most 8 + 4 tokens, 8 per sequence: prompts of 10 are split and share passes
    // with the next sequence's, as the scheduler packs them.
    load.prefill_chunk = 8;
    InferenceEngine engine;
    engine.load_model(model(), load);

    const uint32_t n_seq = 4, n_prompt = 10, n_gen = 6;
    const BenchParallelResult r = engine.bench_parallel(n_seq, n_prompt, n_gen, 7);
    EXPECT_GT(r.prompt_ms, 0);
    EXPECT_GT(r.generate_ms, 0);
    ASSERT_EQ(r.prompts.size(), n_seq);
    ASSERT_EQ(r.generated.size(), n_seq);

    std::set<std::vector<int32_t>> distinct;
    SamplingParams greedy;
    greedy.temperature = 0;
    greedy.max_tokens = n_gen + 1;
    greedy.ignore_eos = true;
    for (uint32_t k = 0; k < n_seq; ++k) {
        ASSERT_EQ(r.prompts[k].size(), n_prompt);
        ASSERT_EQ(r.generated[k].size(), n_gen + 1);
        const InferenceResult alone = engine.infer_tokens(r.prompts[k], greedy);
        EXPECT_EQ(alone.tokens, r.generated[k]) << "sequence " << k;
        distinct.insert(r.generated[k]);
    }
    // Outputs that differ between sequences: a mixed-up page table or logits row would show.
    EXPECT_GT(distinct.size(), 1u);

    // The same seed gives the same prompts; sequence 0's prompt does not depend on the count.
    const BenchParallelResult one = engine.bench_parallel(1, n_prompt, n_gen, 7);
    EXPECT_EQ(one.prompts[0], r.prompts[0]);
    EXPECT_EQ(one.generated[0], r.generated[0]);
}

TEST_F(BenchParallel, LimitsAreClearErrorsAndTheEngineStaysUsable) {
    LoadOptions load = cpu_load();
    load.max_sequences = 4;
    load.kv_blocks = 8;  // one context of 128: 8 blocks of 16
    InferenceEngine engine;
    engine.load_model(model(), load);

    auto message = [&](uint32_t n_seq, uint32_t n_prompt, uint32_t n_gen, ErrorKind kind) {
        try {
            engine.bench_parallel(n_seq, n_prompt, n_gen, 1);
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), kind) << e.what();
            return std::string(e.what());
        }
        ADD_FAILURE() << "no error for " << n_seq << " x " << n_prompt << " + " << n_gen;
        return std::string();
    };
    // 4 sequences of 100 + 20 positions need 4 x 8 blocks.
    EXPECT_NE(message(4, 100, 20, ErrorKind::OutOfMemory).find("need 32 KV blocks"), std::string::npos);
    EXPECT_NE(message(5, 8, 4, ErrorKind::InvalidArgument).find("at most 4"), std::string::npos);
    EXPECT_NE(message(1, 120, 20, ErrorKind::InvalidArgument).find("context holds 128"), std::string::npos);
    EXPECT_NE(message(1, 0, 4, ErrorKind::InvalidArgument).find("prompt"), std::string::npos);

    // One sequence of 120 positions takes the whole pool: it fits only if the failed call (which
    // had reserved the first sequence's 8 blocks) gave them back.
    const BenchParallelResult r = engine.bench_parallel(1, 100, 20, 1);
    EXPECT_EQ(r.generated[0].size(), 21u);
}

}  // namespace
}  // namespace llcuda
