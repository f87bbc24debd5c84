// The matcher against llama.cpp's grammar sampler (tests/golden/grammar/llama_cpp_masks.json,
// written by tests/oracles/grammar_golden.py): on SmolLM2's vocabulary, the same token walks must
// give the same allowed sets at every step (control tokens other than end-of-generation aside:
// llama.cpp matches their text, llcuda never produces them; and tokens starting with a NUL byte,
// which llama.cpp never allows). The walks avoid stopping on a lone 0xED byte, after which
// llama.cpp accepts surrogate encodings that are not UTF-8 (llcuda refuses them:
// GbnfParse.DotAndRangesMatchWholeCharacters).
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "grammar/matcher.h"
#include "grammar_test_util.h"
#include "llcuda/tokenizer.h"
#include "test_paths.h"

namespace llcuda::grammar {
namespace {

std::string fnv1a64(const std::vector<int32_t>& ids) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (int32_t id : ids) {
        for (int k = 0; k < 4; ++k) h = (h ^ ((uint32_t(id) >> (8 * k)) & 0xFF)) * 0x100000001B3ull;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

std::vector<int32_t> expand(const nlohmann::json& ranges) {
    std::vector<int32_t> out;
    for (const auto& r : ranges) for (int32_t i = r[0].get<int32_t>(); i <= r[1].get<int32_t>(); ++i) out.push_back(i);
    return out;
}

TEST(GrammarGolden, SameAllowedSetsAsLlamaCpp) {
    LLCUDA_REQUIRE_FILE(llcuda::test::smollm2_path());
    std::ifstream f(llcuda::test::golden_dir() / "grammar" / "llama_cpp_masks.json");
    ASSERT_TRUE(f) << "missing golden file";
    const auto doc = nlohmann::json::parse(f);
    const Tokenizer tok = Tokenizer::from_gguf_file(llcuda::test::smollm2_path());
    const uint32_t n = doc["n_vocab"].get<uint32_t>();
    ASSERT_EQ(tok.n_vocab(), n);
    const auto vocab = build_token_vocabulary(tok, n, doc["eog"].get<std::vector<int32_t>>());
    size_t n_steps = 0;
    for (const auto& c : doc["cases"]) {
        const std::string name = c["grammar"].get<std::string>() + " walk " + std::to_string(c["walk"].get<int>());
        Matcher m(vocab, parse_gbnf(doc["grammars"][c["grammar"].get<std::string>()].get<std::string>()));
        const auto tokens = c["tokens"].get<std::vector<int32_t>>();
        for (size_t i = 0; i < c["steps"].size(); ++i) {
            const auto& step = c["steps"][i];
            const auto& mask = m.allowed();
            std::vector<int32_t> ours;
            for (uint32_t t = 0; t < n; ++t) {
                // llama.cpp reads token pieces as C strings: one starting with NUL is never allowed.
                const bool nul_first = !vocab->bytes[t].empty() && vocab->bytes[t][0] == '\0';
                if (test::bit(mask, int32_t(t)) && !nul_first) ours.push_back(int32_t(t));
            }
            ++n_steps;
            EXPECT_EQ(ours.size(), step["n_allowed"].get<size_t>()) << name << " step " << i;
            EXPECT_EQ(fnv1a64(ours), step["fnv1a64"].get<std::string>()) << name << " step " << i;
            if (step.contains("allowed")) {
                EXPECT_EQ(ours, expand(step["allowed"])) << name << " step " << i;
            } else if (step.contains("disallowed")) {
                const auto dis = expand(step["disallowed"]);
                for (int32_t t : dis) {
                    EXPECT_TRUE(!test::bit(mask, t) || vocab->bytes[size_t(t)].starts_with('\0')) << name << " step " << i << " token " << t;
                }
            }
            if (i < tokens.size()) m.accept(tokens[i]);
        }
    }
    EXPECT_GT(n_steps, 100u);
}

}  // namespace
}  // namespace llcuda::grammar
