// The CUDA engine end to end against the CPU reference, on the same weights (GPU machine only;
// label `gpu`):
//  - greedy continuations identical for 128 tokens: SmolLM2-135M, Gemma-3-270M and the tiny random
//    models of every supported architecture;
//  - every GPU weight type (SmolLM2 requantized with `pure` presets): top-1 agreement >= 99 %, mean
//    KL-divergence and perplexity within 0.5 % over an Austen slice (LLCUDA_KL_TOKENS, default 2048);
//  - a q8_0 KV cache: the same checks with a looser KL;
//  - decode at depth (every step past the tensor-core decode threshold), f16 and q8_0 caches:
//    greedy tokens and their log-probabilities against the CPU engine, a difference only at a tie;
//  - constrained decoding: candidates chosen among a grammar's allowed tokens on the GPU give the
//    tokens that whole rows masked on the host give;
//  - batching: 8 prompts in one batch give the tokens each gives alone;
//  - errors: an unsupported weight type is refused naming the tensor and type.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "llcuda/engine.h"
#include "llcuda/error.h"
#include "llcuda/quantize.h"
#include "test_paths.h"

namespace llcuda {
namespace {

namespace fs = std::filesystem;

InferenceEngine load(const fs::path& path, Backend backend, uint32_t ctx, KvCacheType kv = KvCacheType::F16) {
    LoadOptions o;
    o.backend = backend;
    o.context_length = ctx;
    o.kv_type = kv;
    o.max_sequences = 8;
    InferenceEngine e;
    e.load_model(path, o);
    EXPECT_EQ(e.model_info().backend, backend == Backend::Cuda ? "cuda" : "cpu");
    return e;
}

SamplingParams greedy(uint32_t n) {
    SamplingParams p;
    p.temperature = 0;
    p.max_tokens = n;
    p.ignore_eos = true;  // compare all n tokens, whatever they are
    return p;
}

// Greedy tokens of both backends, and the first position where they part.
void expect_same_greedy(const fs::path& model, const std::string& prompt, uint32_t n, uint32_t ctx) {
    auto cpu = load(model, Backend::Cpu, ctx);
    auto gpu = load(model, Backend::Cuda, ctx);
    const auto a = cpu.infer(prompt, greedy(n));
    const auto b = gpu.infer(prompt, greedy(n));
    ASSERT_EQ(a.tokens.size(), n);
    size_t first_diff = 0;
    while (first_diff < n && first_diff < b.tokens.size() && a.tokens[first_diff] == b.tokens[first_diff]) ++first_diff;
    std::printf("%s: greedy identical for %zu/%u tokens (GPU %.1f tok/s)\n", model.filename().c_str(), first_diff, n,
                b.tokens_per_sec);
    EXPECT_EQ(a.tokens, b.tokens) << model << ": tokens part at " << first_diff;
}

TEST(CudaEndToEnd, GreedySmolLM2) {
    LLCUDA_REQUIRE_FILE(test::smollm2_path());
    expect_same_greedy(test::smollm2_path(), "The history of the printing press", 128, 512);
}

TEST(CudaEndToEnd, GreedyGemma3) {
    LLCUDA_REQUIRE_FILE(test::gemma3_path());
    expect_same_greedy(test::gemma3_path(), "The history of the printing press", 128, 512);
}

class TinyArchitecture : public ::testing::TestWithParam<const char*> {};

TEST_P(TinyArchitecture, GreedyMatchesCpu) {
    const fs::path model = test::golden_dir() / "engine" / (std::string("tiny-") + GetParam() + ".gguf");
    LLCUDA_REQUIRE_FILE(model);
    expect_same_greedy(model, "Hello there, general", 128, 256);
}

INSTANTIATE_TEST_SUITE_P(All, TinyArchitecture, ::testing::Values("llama", "qwen2", "qwen3", "gemma3", "phi3"));

// ---- distributions over an Austen slice ----

std::vector<int32_t> austen_tokens(InferenceEngine& e, uint32_t n) {
    const fs::path path = test::test_data_dir() / "corpus" / "austen.txt";
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path.string());
    std::string text(200000, '\0');
    in.read(text.data(), std::streamsize(text.size()));
    text.resize(size_t(in.gcount()));
    auto tokens = e.tokenize(text, true);
    if (tokens.size() < n) throw std::runtime_error("the Austen slice is too short");
    tokens.resize(n);
    return tokens;
}

struct Comparison {
    double mean_kl = 0, max_kl = 0, top1 = 0, ppl_cpu = 0, ppl_gpu = 0;
};

Comparison compare_distributions(const fs::path& model, uint32_t n_tokens, KvCacheType kv) {
    auto cpu = load(model, Backend::Cpu, n_tokens);
    auto gpu = load(model, Backend::Cuda, n_tokens, kv);
    const auto tokens = austen_tokens(cpu, n_tokens);
    const uint32_t n_vocab = cpu.model_info().n_vocab;
    std::vector<std::vector<float>> cpu_rows(tokens.size());
    cpu.score(tokens, [&](uint32_t i, const float* row) { cpu_rows[i].assign(row, row + n_vocab); });
    Comparison c;
    double nll_cpu = 0, nll_gpu = 0, kl_sum = 0;
    uint32_t agree = 0, n_rows = 0;
    gpu.score(tokens, [&](uint32_t i, const float* row) {
        const std::vector<float>& ref = cpu_rows[i];
        double kl = 0;
        for (uint32_t v = 0; v < n_vocab; ++v) kl += std::exp(double(ref[v])) * (double(ref[v]) - double(row[v]));
        kl_sum += kl;
        c.max_kl = std::max(c.max_kl, kl);
        agree += std::max_element(ref.begin(), ref.end()) - ref.begin() == std::max_element(row, row + n_vocab) - row;
        if (i + 1 < tokens.size()) {
            nll_cpu -= ref[tokens[i + 1]];
            nll_gpu -= row[tokens[i + 1]];
        }
        ++n_rows;
    });
    c.mean_kl = kl_sum / n_rows;
    c.top1 = double(agree) / n_rows;
    c.ppl_cpu = std::exp(nll_cpu / (n_rows - 1));
    c.ppl_gpu = std::exp(nll_gpu / (n_rows - 1));
    return c;
}

uint32_t kl_tokens() {
    const char* env = std::getenv("LLCUDA_KL_TOKENS");
    return env ? uint32_t(std::stoul(env)) : 2048;
}

class WeightType : public ::testing::TestWithParam<const char*> {};

// Quantizes SmolLM2 with `preset` (pure: every matrix that type; else llama-quantize's mix) and
// compares the CUDA engine's distributions over the Austen slice with the CPU engine's.
void expect_preset_matches_cpu(const std::string& preset, bool pure) {
    LLCUDA_REQUIRE_FILE(test::smollm2_path());
    const fs::path model = fs::temp_directory_path() / fmt::format("llcuda-e2e-{}-{}-{}.gguf", preset, pure, ::getpid());
    ModelQuantizeParams qp;
    qp.file_type = preset;
    qp.pure = pure;
    qp.allow_requantize = true;
    quantize_model(test::smollm2_path(), model, qp);
    const Comparison c = compare_distributions(model, kl_tokens(), KvCacheType::F16);
    fs::remove(model);
    const std::string label = preset + (pure ? "" : " mix");
    std::printf("%-10s mean KL %.2e  max KL %.2e  top-1 %.2f %%  ppl cpu %.4f gpu %.4f (%+.3f %%)\n", label.c_str(),
                c.mean_kl, c.max_kl, 100 * c.top1, c.ppl_cpu, c.ppl_gpu, 100 * (c.ppl_gpu / c.ppl_cpu - 1));
    EXPECT_GE(c.top1, 0.99) << label;
    EXPECT_LT(std::abs(c.ppl_gpu / c.ppl_cpu - 1), 0.005) << label;
    EXPECT_LT(c.mean_kl, 1e-3) << label;
}

TEST_P(WeightType, DistributionsMatchCpu) { expect_preset_matches_cpu(GetParam(), true); }

// The mixes put Q6_K into attn_v and some ffn_down matrices: q and k are then stacked without v
// (one product), and the Q6_K ffn_down (1536 columns) takes gemm_rows at the 64-token score chunks.
TEST(CudaEndToEnd, MixedPresetsMatchCpu) {
    for (const char* preset : {"Q4_K_M", "Q5_K_M"}) expect_preset_matches_cpu(preset, false);
}

INSTANTIATE_TEST_SUITE_P(Presets, WeightType,
                         ::testing::Values("F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K",
                                           "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K", "IQ4_NL", "IQ4_XS"));

TEST(CudaEndToEnd, Q8KvCacheStaysClose) {
    LLCUDA_REQUIRE_FILE(test::smollm2_path());
    const Comparison c = compare_distributions(test::smollm2_path(), kl_tokens(), KvCacheType::Q8_0);
    std::printf("q8_0 KV: mean KL %.2e  top-1 %.2f %%  ppl cpu %.4f gpu %.4f\n", c.mean_kl, 100 * c.top1, c.ppl_cpu,
                c.ppl_gpu);
    EXPECT_GE(c.top1, 0.98);
    EXPECT_LT(std::abs(c.ppl_gpu / c.ppl_cpu - 1), 0.01);
}

// Greedy decoding after a 1,100-token prompt, so that every step's context is past the length from
// which pure decode runs on tensor cores (split-KV, PDL and graphs included), with an f16 and a
// q8_0 cache, against the CPU engine (float cache): the tokens agree up to the first difference,
// the chosen tokens' log-probabilities agree within `max_dlogprob` until then, and a difference,
// if any, is a near-tie of the CPU's: the GPU's token is among its five most likely, within `tie`
// nats of its choice. (Prefill distributions are compared above; this is the decode kernel's turn.)
TEST(CudaEndToEnd, DecodeAtDepthMatchesCpu) {
    LLCUDA_REQUIRE_FILE(test::smollm2_path());
    constexpr uint32_t kPrompt = 1100, kGen = 48, kCtx = 2048;
    struct Bound {
        KvCacheType kv;
        const char* name;
        double max_dlogprob, tie;
    };
    auto cpu = load(test::smollm2_path(), Backend::Cpu, kCtx);
    const std::vector<int32_t> prompt = austen_tokens(cpu, kPrompt);
    SamplingParams p = greedy(kGen);
    p.logprobs = 5;
    const InferenceResult ref = cpu.generate(prompt, p, {});
    ASSERT_EQ(ref.tokens.size(), kGen);
    ASSERT_EQ(ref.logprobs.size(), kGen);
    for (const Bound& b : {Bound{KvCacheType::F16, "f16", 0.05, 0.1}, Bound{KvCacheType::Q8_0, "q8_0", 0.3, 0.6}}) {
        auto gpu = load(test::smollm2_path(), Backend::Cuda, kCtx, b.kv);
        const InferenceResult got = gpu.generate(prompt, p, {});
        ASSERT_EQ(got.tokens.size(), kGen) << b.name;
        ASSERT_EQ(got.logprobs.size(), kGen) << b.name;
        uint32_t same = 0;
        double max_d = 0;
        while (same < kGen && got.tokens[same] == ref.tokens[same]) {
            max_d = std::max(max_d, std::abs(double(got.logprobs[same].logprob) - double(ref.logprobs[same].logprob)));
            ++same;
        }
        std::printf("decode at depth %u, %s KV: greedy identical for %u/%u tokens, max |d logprob| %.4f (GPU %.1f tok/s)\n",
                    kPrompt, b.name, same, kGen, max_d, got.tokens_per_sec);
        EXPECT_LT(max_d, b.max_dlogprob) << b.name;
        if (same < kGen) {
            const TokenLogprob& r = ref.logprobs[same];
            const auto it = std::find_if(r.top.begin(), r.top.end(),
                                         [&](const std::pair<int32_t, float>& c) { return c.first == got.tokens[same]; });
            ASSERT_NE(it, r.top.end()) << b.name << ": at step " << same << " the GPU chose " << got.tokens[same]
                                       << ", not among the CPU's five most likely";
            EXPECT_LT(double(r.logprob) - double(it->second), b.tie)
                << b.name << ": at step " << same << " the tokens part without a near-tie";
        }
    }
}

TEST(CudaEndToEnd, GemmaDistributionsMatchCpu) {
    LLCUDA_REQUIRE_FILE(test::gemma3_path());
    const Comparison c = compare_distributions(test::gemma3_path(), kl_tokens(), KvCacheType::F16);
    std::printf("gemma3 Q4_K_M: mean KL %.2e  top-1 %.2f %%  ppl cpu %.4f gpu %.4f\n", c.mean_kl, 100 * c.top1,
                c.ppl_cpu, c.ppl_gpu);
    EXPECT_GE(c.top1, 0.99);
    EXPECT_LT(std::abs(c.ppl_gpu / c.ppl_cpu - 1), 0.005);
}

// ---- sampling on the device (top candidates cross to the host, not the whole row) ----

// The device path (top candidates chosen on the GPU, drawn on the host) makes the same draws as the
// CPU engine from the same seed. The two engines' logits differ in the last bits (summation order),
// so a draw whose uniform number lands within that difference of a boundary between two candidates
// can pick the neighbouring one; after such a flip the texts part. So: the GPU repeats itself
// exactly, the engines agree token for token (and in log-probability) up to the first difference,
// and a difference, if any, is such a flip: the two tokens are neighbours in the order the sampler
// draws from, the penalized log-probabilities (temperature keeps that order).
// The penalties are the additive ones (presence, frequency): they shift a log-probability by a
// known amount, so the test can rebuild the sampler's order from the reported log-probabilities.
// (The multiplicative repetition penalty needs the absolute logits, which no result reports; an
// H200 run with it showed exactly such a flip: tokens 253 and 354 of SmolLM2 were 5e-4 apart after
// the penalty, third and fourth in the drawn order, first and fifth before it.) Either kind runs on
// the host from the backend's candidates, so this covers the GPU's part: the top list and the
// extra (penalized) tokens' logits.
TEST(CudaEndToEnd, SeededSamplingMatchesCpu) {
    LLCUDA_REQUIRE_FILE(test::smollm2_path());
    SamplingParams p;
    p.temperature = 0.7f;
    p.top_k = 40;
    p.top_p = 0.9f;
    p.min_p = 0.05f;
    p.presence_penalty = 0.4f;
    p.frequency_penalty = 0.2f;
    p.max_tokens = 48;
    p.ignore_eos = true;
    p.logprobs = 20;
    p.seed = 1234;
    const std::string prompt = "Once upon a time";
    auto cpu = load(test::smollm2_path(), Backend::Cpu, 256);
    auto gpu = load(test::smollm2_path(), Backend::Cuda, 256);
    const auto a = cpu.infer(prompt, p);
    const auto b = gpu.infer(prompt, p);
    const auto b2 = gpu.infer(prompt, p);
    EXPECT_EQ(b.tokens, b2.tokens) << "the same seed gave two different texts on the GPU";
    ASSERT_EQ(a.tokens.size(), b.tokens.size());
    ASSERT_EQ(a.logprobs.size(), a.tokens.size());
    ASSERT_EQ(b.logprobs.size(), b.tokens.size());
    size_t same = 0;
    while (same < a.tokens.size() && a.tokens[same] == b.tokens[same]) ++same;
    std::printf("seeded sampling: CPU and GPU agree on %zu/%zu tokens\n", same, a.tokens.size());
    for (size_t i = 0; i < same; ++i) {
        EXPECT_NEAR(a.logprobs[i].logprob, b.logprobs[i].logprob, 1e-2) << "token " << i;  // ~max KL scale
    }
    if (same == a.tokens.size()) return;

    // The penalty window at the first difference: the prompt and the tokens generated before it.
    std::vector<int32_t> history = cpu.tokenize(prompt);
    history.insert(history.end(), a.tokens.begin(), a.tokens.begin() + long(same));
    const size_t window = std::min(history.size(), size_t(p.penalty_last_n));
    std::map<int32_t, int> seen;
    for (size_t i = history.size() - window; i < history.size(); ++i) ++seen[history[i]];
    auto penalized = [&](int32_t id, float logprob) {
        const auto it = seen.find(id);
        return it == seen.end() ? logprob : logprob - float(it->second) * p.frequency_penalty - p.presence_penalty;
    };
    // The CPU's most likely tokens in the sampler's order (penalized, descending).
    std::vector<std::pair<float, int32_t>> order;
    for (const auto& [id, lp] : a.logprobs[same].top) order.emplace_back(penalized(id, lp), id);
    std::sort(order.begin(), order.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
    auto rank = [&](int32_t id) {
        for (size_t k = 0; k < order.size(); ++k)
            if (order[k].second == id) return int(k);
        return -1;
    };
    const int ra = rank(a.tokens[same]), rb = rank(b.tokens[same]);
    std::printf("  first difference at token %zu: CPU took #%d, GPU #%d of the CPU's penalized order\n", same, ra, rb);
    const auto& gtop = b.logprobs[same].top;
    for (size_t k = 0; k < std::min<size_t>(8, order.size()); ++k) {
        std::printf("    #%zu  cpu %6d %9.5f (raw top: cpu %6d %9.5f, gpu %6d %9.5f)\n", k, order[k].second,
                    order[k].first, a.logprobs[same].top[k].first, a.logprobs[same].top[k].second,
                    k < gtop.size() ? gtop[k].first : -1, k < gtop.size() ? gtop[k].second : 0.0f);
    }
    EXPECT_TRUE(ra >= 0 && rb >= 0 && std::abs(ra - rb) == 1)
        << "at token " << same << " the GPU drew " << b.tokens[same] << " where the CPU drew " << a.tokens[same]
        << ": not neighbours in the sampler's order, so not a rounding flip";
}

// Constrained decoding: a grammar's mask goes with each row's candidate request to the top-k kernels
// (ops_topk.cu, the CudaBackend's upload and unpacking); a constrained row that reports logprobs
// still copies whole rows and masks them on the host. From the same logits both must choose the
// same tokens, greedy and seeded (the prompt is shorter than a KV block, so nothing is cached).
TEST(CudaEndToEnd, ConstrainedCandidatesMatchWholeRows) {
    LLCUDA_REQUIRE_FILE(test::smollm2_path());
    auto gpu = load(test::smollm2_path(), Backend::Cuda, 512);
    const std::string schema = R"({"type": "object", "properties": {"name": {"type": "string", "maxLength": 20},
        "age": {"type": "integer", "minimum": 0, "maximum": 120},
        "tags": {"type": "array", "items": {"enum": ["red", "green", "blue"]}, "maxItems": 3}},
        "required": ["name", "age", "tags"]})";
    for (float temperature : {0.0f, 0.8f}) {
        SamplingParams p;
        p.temperature = temperature;
        p.top_k = 40;
        p.repetition_penalty = 1.1f;
        p.seed = 7;
        p.max_tokens = 80;
        p.json_schema = schema;
        const auto masked = gpu.infer("A person as JSON:", p);
        p.logprobs = 1;
        const auto whole = gpu.infer("A person as JSON:", p);
        std::printf("constrained, temperature %.1f: %zu tokens, %.1f tok/s on candidates, %.1f tok/s on whole rows: %s\n",
                    temperature, masked.tokens.size(), masked.tokens_per_sec, whole.tokens_per_sec, masked.text.c_str());
        EXPECT_GT(masked.tokens.size(), 5u);
        EXPECT_EQ(masked.tokens, whole.tokens) << "temperature " << temperature;
    }
}

// ---- batching ----

TEST(CudaEndToEnd, EightPromptsInOneBatchMatchEachAlone) {
    LLCUDA_REQUIRE_FILE(test::smollm2_path());
    const std::vector<std::string> prompts = {
        "The capital of France is", "Once upon a time, in a small village,", "def fibonacci(n):",
        "The three primary colours are", "Water boils at", "My favourite book is",
        "In 1969, the first person to walk on the Moon", "A haiku about autumn:"};
    auto gpu = load(test::smollm2_path(), Backend::Cuda, 256);
    const auto together = gpu.batch_infer(prompts, greedy(32));
    ASSERT_EQ(together.size(), prompts.size());
    for (size_t i = 0; i < prompts.size(); ++i) {
        EXPECT_EQ(together[i].tokens, gpu.infer(prompts[i], greedy(32)).tokens) << prompts[i];
    }
}

// ---- errors ----

TEST(CudaEndToEnd, UnsupportedWeightTypeIsRefusedByName) {
    LLCUDA_REQUIRE_FILE(test::smollm2_path());
    const fs::path model = fs::temp_directory_path() / fmt::format("llcuda-e2e-iq2-{}.gguf", ::getpid());
    ModelQuantizeParams qp;
    qp.file_type = "TQ2_0";
    qp.pure = true;
    qp.allow_requantize = true;
    quantize_model(test::smollm2_path(), model, qp);  // ffn_down (1536 columns) becomes TQ2_0
    try {
        load(model, Backend::Cuda, 128);
        ADD_FAILURE() << "a TQ2_0 model loaded on the GPU";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Unsupported) << e.what();
        EXPECT_NE(std::string(e.what()).find("tq2_0"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(".weight"), std::string::npos) << e.what();
    }
    fs::remove(model);
}

}  // namespace
}  // namespace llcuda
