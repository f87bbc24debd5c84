// The Metaspace pre-tokenizer and decoder (newer SentencePiece-style tokenizer.json files), on the
// Mistral vocabulary rewritten the way tokenizer_golden.py's mistral_metaspace() rewrites it, against
// HF `tokenizers` on the edge cases, random strings and corpus blocks.
#include <gtest/gtest.h>

#include "golden_io.h"

namespace llcuda::test {
namespace {

const char* kSpace = "\xE2\x96\x81";

std::filesystem::path mistral_json() { return test_data_dir() / "tokenizers" / "mistral-7b" / "tokenizer.json"; }

Tokenizer metaspace_tokenizer(bool split) {
    std::ifstream in(mistral_json());
    nlohmann::json j = nlohmann::json::parse(in);
    j["normalizer"] = nullptr;
    if (split) {
        j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", kSpace}, {"prepend_scheme", "always"}, {"split", true}};
        j["decoder"] = {{"type", "Sequence"},
                        {"decoders",
                         {{{"type", "Metaspace"}, {"replacement", kSpace}, {"prepend_scheme", "always"}, {"split", true}},
                          {{"type", "ByteFallback"}},
                          {{"type", "Fuse"}}}}};
    } else {
        j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", kSpace}, {"prepend_scheme", "first"}, {"split", false}};
    }
    return Tokenizer::from_hf_json(j.dump());
}

std::vector<std::string> corpus_blocks() {
    const auto lines = austen_lines();
    std::vector<std::string> blocks;
    for (size_t i = 0; i < lines.size(); i += 64) {
        std::string b;
        for (size_t k = i; k < std::min(lines.size(), i + 64); ++k) b += (k > i ? "\n" : "") + lines[k];
        blocks.push_back(std::move(b));
    }
    return blocks;
}

// Indices of the corpus blocks whose ids differ from the golden.
std::vector<size_t> mismatching_blocks(const Tokenizer& tok, const std::string& name) {
    const auto blocks = corpus_blocks();
    const auto golden = read_lines(golden_dir() / "tokenizer" / (name + ".blocks.txt"));
    EXPECT_EQ(golden.size(), blocks.size());
    EncodeOptions plain;
    plain.add_special = false;
    std::vector<size_t> out;
    for (size_t b = 0; b < std::min(blocks.size(), golden.size()); ++b) {
        const auto ids = tok.encode(blocks[b], plain);
        char want[64];
        std::snprintf(want, sizeof want, "%zu %016llx ", ids.size(), static_cast<unsigned long long>(fnv_ids(ids)));
        if (golden[b].rfind(want, 0) != 0) out.push_back(b);
    }
    return out;
}

class TokenizerMetaspace : public testing::TestWithParam<bool> {};

TEST_P(TokenizerMetaspace, MatchesHf) {
    LLCUDA_REQUIRE_TEST_DATA(mistral_json());
    const bool split = GetParam();
    const std::string name = split ? "mistral-metaspace-split" : "mistral-metaspace";
    const Tokenizer tok = metaspace_tokenizer(split);

    auto cases = read_jsonl(golden_dir() / "tokenizer" / (name + ".edge.jsonl"));
    const auto random = read_jsonl(golden_dir() / "tokenizer" / (name + ".random.jsonl"));
    cases.insert(cases.end(), random.begin(), random.end());
    ASSERT_GT(cases.size(), 350u);
    size_t mismatches = 0;
    for (const auto& c : cases) {
        const std::string raw = from_hex(c["input_hex"].get<std::string>());
        EncodeOptions opt;
        opt.replace_invalid_utf8 = true;
        EncodeOptions nospecial = opt;
        nospecial.parse_special = false;
        const auto ids = tok.encode(raw, opt);
        bool ok = ids == c["ids"].get<std::vector<int32_t>>() &&
                  tok.encode(raw, nospecial) == c["ids_nospecial"].get<std::vector<int32_t>>() &&
                  tok.decode(ids) == c["decoded"].get<std::string>();
        if (c.contains("decoded_skip")) ok = ok && tok.decode(ids, {.skip_special = true}) == c["decoded_skip"].get<std::string>();
        if (!ok && mismatches++ < 5) ADD_FAILURE() << name << ": input \"" << raw << "\" got " << nlohmann::json(ids).dump() << " decoded \"" << tok.decode(ids) << "\"";
    }
    const auto bad_blocks = mismatching_blocks(tok, name);
    for (size_t k = 0; k < std::min<size_t>(3, bad_blocks.size()); ++k) ADD_FAILURE() << name << ": block " << bad_blocks[k];
    mismatches += bad_blocks.size();
    std::printf("[golden] %-28s %zu mismatches of %zu\n", name.c_str(), mismatches, cases.size() + corpus_blocks().size());
    EXPECT_EQ(mismatches, 0u);
}

// The GGUF view of a Metaspace "prepend first" tokenizer is SentencePiece with add_space_prefix,
// which (like llama.cpp) always prepends "▁": it differs from Metaspace, which does not prepend to
// text that already starts with a space, nor after a special token. Everything else must match;
// and the blocks that start with a space must be exactly the ones that differ.
TEST(TokenizerMetaspace, GgufViewOfPrependFirst) {
    LLCUDA_REQUIRE_TEST_DATA(mistral_json());
    const Vocabulary v = metaspace_tokenizer(false).vocabulary();
    EXPECT_EQ(v.model, "llama");
    EXPECT_TRUE(v.add_space_prefix);
    const Tokenizer converted = Tokenizer::from_vocabulary(v);
    std::vector<size_t> leading_space;
    const auto blocks = corpus_blocks();
    for (size_t b = 0; b < blocks.size(); ++b)
        if (!blocks[b].empty() && blocks[b][0] == ' ') leading_space.push_back(b);
    ASSERT_FALSE(leading_space.empty()) << "the corpus no longer exercises the difference";
    const auto bad_blocks = mismatching_blocks(converted, "mistral-metaspace");
    std::printf("[golden] %-28s %zu of %zu blocks differ (expected: the %zu starting with a space)\n", "mistral-metaspace via vocab",
                bad_blocks.size(), blocks.size(), leading_space.size());
    EXPECT_EQ(bad_blocks, leading_space);
}

INSTANTIATE_TEST_SUITE_P(Mistral, TokenizerMetaspace, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& i) { return i.param ? "split_always" : "prepend_first"; });

}  // namespace
}  // namespace llcuda::test
