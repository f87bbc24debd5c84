// The CPU engine against llama.cpp (golden files from tests/oracles/engine_golden.py):
//  - tiny random models of every supported architecture: log-probabilities at every position;
//  - SmolLM2-135M and Gemma-3-270M: top-10 log-probabilities at 64 positions of an Austen passage,
//    perplexity of a 256-token chunk, and 32 greedy tokens. The reference is llama.cpp on the same
//    weights dequantized to F32 with an F32 KV cache (the arithmetic the CPU engine does); llama.cpp's
//    default quantized path (8-bit activations, F16 cache) is printed beside it for information.
#include <cmath>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "golden_json.h"
#include "llcuda/engine.h"
#include "test_paths.h"

namespace llcuda {
namespace {

std::filesystem::path engine_golden(const std::string& name) { return test::golden_dir() / "engine" / name; }

InferenceEngine load(const std::filesystem::path& path, uint32_t ctx) {
    InferenceEngine e;
    LoadOptions o;
    o.backend = Backend::Cpu;
    o.context_length = ctx;
    o.n_threads = 2;
    e.load_model(path, o);
    return e;
}

class TinyArchitecture : public ::testing::TestWithParam<const char*> {};

TEST_P(TinyArchitecture, LogprobsMatchLlamaCpp) {
    const std::string arch = GetParam();
    const nlohmann::json golden = test::load_json(engine_golden("tiny-" + arch + ".json"));
    InferenceEngine engine = load(engine_golden("tiny-" + arch + ".gguf"), 128);
    EXPECT_EQ(engine.model_info().architecture, arch);
    const auto tokens = golden["tokens"].get<std::vector<int32_t>>();
    const auto& expected = golden["logprobs"];
    double max_error = 0;
    uint32_t top1_agree = 0;
    engine.score(tokens, [&](uint32_t i, const float* row) {
        const auto& want = expected[i];
        size_t best_ours = 0, best_theirs = 0;
        for (size_t v = 0; v < want.size(); ++v) {
            max_error = std::max(max_error, std::abs(double(row[v]) - want[v].get<double>()));
            if (row[v] > row[best_ours]) best_ours = v;
            if (want[v].get<double>() > want[best_theirs].get<double>()) best_theirs = v;
        }
        top1_agree += best_ours == best_theirs;
    });
    RecordProperty("max_abs_logprob_error", fmt::format("{:.2e}", max_error));
    std::printf("tiny-%s: max |Δ log p| = %.2e, top-1 agreement %u/%zu\n", arch.c_str(), max_error, top1_agree,
                tokens.size());
    // F32 weights on both sides: differences are summation order, and for gemma3 llama.cpp's CPU GELU,
    // which looks values up in an fp16 table.
    EXPECT_LT(max_error, arch == "gemma3" ? 1.5e-2 : 2e-3);
    EXPECT_EQ(top1_agree, tokens.size());
}

INSTANTIATE_TEST_SUITE_P(Architectures, TinyArchitecture,
                         ::testing::Values("llama", "qwen2", "qwen3", "gemma3", "phi3"),
                         [](const auto& info) { return std::string(info.param); });

class RealModelOracle : public ::testing::TestWithParam<std::pair<const char*, std::filesystem::path (*)()>> {};

TEST_P(RealModelOracle, MatchesLlamaCpp) {
    const auto [label, path_fn] = GetParam();
    LLCUDA_REQUIRE_FILE(path_fn());
    const nlohmann::json golden = test::load_json(engine_golden(std::string(label) + ".json"));
    InferenceEngine engine = load(path_fn(), 256);
    const auto tokens = golden["tokens"].get<std::vector<int32_t>>();

    // Logits: top-10 of llama.cpp at each of the first 64 positions.
    const auto& top = golden["top_logprobs"];
    double max_error = 0, nll_sum = 0;
    uint32_t top1_agree = 0, n_nll = 0;
    const uint32_t nll_first = golden["nll_positions"][0], nll_end = golden["nll_positions"][1];
    engine.score(tokens, [&](uint32_t i, const float* row) {
        if (i < top.size()) {
            const auto& want = top[i];
            for (const auto& entry : want) {
                max_error = std::max(max_error, std::abs(double(row[entry[0].get<int32_t>()]) - entry[1].get<double>()));
            }
            const int32_t best = want[0][0];
            bool ours_is_best = true;
            for (uint32_t v = 0; v < engine.model_info().n_vocab && ours_is_best; ++v) ours_is_best = row[v] <= row[best];
            top1_agree += ours_is_best;
        }
        if (i >= nll_first && i < nll_end) {
            nll_sum -= row[tokens[i + 1]];
            ++n_nll;
        }
    });
    const double ppl = std::exp(nll_sum / n_nll), ppl_ref = golden["perplexity"].get<double>();
    const double ppl_diff = std::abs(ppl / ppl_ref - 1.0);

    // Greedy continuation of the prompt, from llama.cpp's prompt tokens.
    SamplingParams greedy;
    greedy.temperature = 0;
    greedy.max_tokens = 32;
    greedy.ignore_eos = true;
    const auto generated = engine.infer_tokens(golden["prompt_tokens"].get<std::vector<int32_t>>(), greedy).tokens;
    const auto expected_greedy = golden["greedy"].get<std::vector<int32_t>>();
    size_t same_prefix = 0;
    while (same_prefix < generated.size() && same_prefix < expected_greedy.size() &&
           generated[same_prefix] == expected_greedy[same_prefix]) {
        ++same_prefix;
    }
    const double ppl_quantized_path = golden["llama_cpp_default"]["perplexity"].get<double>();
    std::printf("%s: top-10 max |Δ log p| = %.4f, top-1 agreement %u/%zu, perplexity %.4f vs llama.cpp %.4f "
                "(%.3f %%; llama.cpp's quantized path: %.4f), greedy identical for %zu/32 tokens\n",
                label, max_error, top1_agree, top.size(), ppl, ppl_ref, 100 * ppl_diff, ppl_quantized_path,
                same_prefix);
    EXPECT_EQ(top1_agree, top.size());
    EXPECT_LT(max_error, 0.02);
    EXPECT_LT(ppl_diff, 0.005);
    EXPECT_EQ(same_prefix, 32u);
}

INSTANTIATE_TEST_SUITE_P(Models, RealModelOracle,
                         ::testing::Values(std::make_pair("smollm2", &test::smollm2_path),
                                           std::make_pair("gemma3", &test::gemma3_path)),
                         [](const auto& info) { return std::string(info.param.first); });

}  // namespace
}  // namespace llcuda
