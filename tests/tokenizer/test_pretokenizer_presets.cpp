// The `tokenizer.ggml.pre` presets without a real model of their family here (DeepSeek LLM,
// Coder, V3): the SmolLM2 vocabulary under each preset, against HF `tokenizers` running the same
// split sequence (tokenizer_golden.py), on the edge cases, random Unicode strings and corpus blocks. What can fail is our regex engine splitting differently
// from HF's (PCRE2 vs Oniguruma: \s, \p{P}/\p{S}/\p{M}, CJK and full-width ranges, "$").
#include <gtest/gtest.h>

#include "golden_io.h"

namespace llcuda::test {
namespace {

class TokenizerPreset : public testing::TestWithParam<std::string> {};

TEST_P(TokenizerPreset, MatchesHfOnEdgeCasesAndCorpusBlocks) {
    LLCUDA_REQUIRE_FILE(smollm2_path());
    const GoldenSource smollm2{"smollm2", smollm2_path(), true};
    Vocabulary v = golden_tokenizer(smollm2, LoadMode::Source).vocabulary();
    v.pre = GetParam();
    const Tokenizer tok = Tokenizer::from_vocabulary(v);
    const std::string name = "smollm2-" + GetParam();

    size_t mismatches = 0;
    auto cases = read_jsonl(golden_dir() / "tokenizer" / (name + ".edge.jsonl"));
    ASSERT_GT(cases.size(), 50u);
    for (auto& c : read_jsonl(golden_dir() / "tokenizer" / (name + ".random.jsonl"))) {
        c["valid_utf8"] = true;
        cases.push_back(std::move(c));
    }
    ASSERT_GT(cases.size(), 350u);
    for (const auto& c : cases) {
        if (!c["valid_utf8"].get<bool>()) continue;
        const std::string raw = from_hex(c["input_hex"].get<std::string>());
        EncodeOptions nospecial;
        nospecial.parse_special = false;
        const bool ok = tok.encode(raw) == c["ids"].get<std::vector<int32_t>>() &&
                        tok.encode(raw, nospecial) == c["ids_nospecial"].get<std::vector<int32_t>>();
        if (!ok && mismatches++ < 5) ADD_FAILURE() << name << ": input \"" << raw << "\"";
    }
    const auto lines = austen_lines();
    const auto golden = read_lines(golden_dir() / "tokenizer" / (name + ".blocks.txt"));
    ASSERT_EQ(golden.size(), (lines.size() + 63) / 64);
    EncodeOptions plain;
    plain.add_special = false;
    for (size_t i = 0, b = 0; i < lines.size(); i += 64, ++b) {
        std::string block;
        for (size_t k = i; k < std::min(lines.size(), i + 64); ++k) block += (k > i ? "\n" : "") + lines[k];
        const auto ids = tok.encode(block, plain);
        char want[64];
        std::snprintf(want, sizeof want, "%zu %016llx ", ids.size(), static_cast<unsigned long long>(fnv_ids(ids)));
        if (golden[b].rfind(want, 0) != 0 && mismatches++ < 5) ADD_FAILURE() << name << ": block " << b;
    }
    std::printf("[golden] %-28s %zu mismatches of %zu\n", name.c_str(), mismatches, cases.size() + golden.size());
    EXPECT_EQ(mismatches, 0u);
}

INSTANTIATE_TEST_SUITE_P(DeepSeek, TokenizerPreset, testing::Values("deepseek-llm", "deepseek-coder", "deepseek-v3"),
                         [](const testing::TestParamInfo<std::string>& i) {
                             std::string n = i.param;
                             for (auto& ch : n) if (ch == '-') ch = '_';
                             return n;
                         });

}  // namespace
}  // namespace llcuda::test
