// Bad input gives llcuda::Error with a message naming the problem, never a crash.
#include <gtest/gtest.h>

#include "golden_io.h"
#include "llcuda/error.h"

#include <random>

namespace llcuda::test {
namespace {

// A tiny but complete byte-level tokenizer.json, mutated by each test.
nlohmann::json small_json() {
    return nlohmann::json::parse(R"({
      "version": "1.0", "added_tokens": [{"id": 5, "content": "<s>", "special": true, "normalized": false,
                                           "lstrip": false, "rstrip": false, "single_word": false}],
      "normalizer": null,
      "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
      "post_processor": null, "decoder": {"type": "ByteLevel"},
      "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3, "Ġab": 4}, "merges": ["a b", "Ġ ab"]}})");
}

ErrorKind kind_of(const std::function<void()>& f, std::string* message = nullptr) {
    try {
        f();
    } catch (const Error& e) {
        if (message) *message = e.what();
        return e.kind();
    }
    ADD_FAILURE() << "no llcuda::Error was thrown";
    return ErrorKind::Internal;
}

TEST(TokenizerErrors, SmallJsonWorks) {
    // The base of the mutations below must itself be accepted, or they prove nothing.
    const Tokenizer tok = Tokenizer::from_hf_json(small_json().dump());
    EXPECT_EQ(tok.encode("ab ab<s>"), (std::vector<int32_t>{2, 4, 5}));
    EXPECT_EQ(tok.decode(tok.encode("ab ab<s>")), "ab ab<s>");
}

TEST(TokenizerErrors, MalformedJson) {
    std::string msg;
    EXPECT_EQ(kind_of([] { Tokenizer::from_hf_json("{\"model\": "); }, &msg), ErrorKind::FormatError);
    EXPECT_NE(msg.find("not valid JSON"), std::string::npos) << msg;
    EXPECT_EQ(kind_of([] { Tokenizer::from_hf_json("[1, 2]"); }), ErrorKind::FormatError);
    auto j = small_json();
    j["model"].erase("vocab");
    EXPECT_EQ(kind_of([&] { Tokenizer::from_hf_json(j.dump()); }), ErrorKind::FormatError);
    j = small_json();
    j["model"]["vocab"]["a"] = "zero";
    EXPECT_EQ(kind_of([&] { Tokenizer::from_hf_json(j.dump()); }), ErrorKind::FormatError);
    j = small_json();
    j["model"]["merges"].push_back("a zz");
    EXPECT_EQ(kind_of([&] { Tokenizer::from_hf_json(j.dump()); }, &msg), ErrorKind::FormatError);
    EXPECT_NE(msg.find("not in the vocabulary"), std::string::npos) << msg;
    j = small_json();
    j["model"]["vocab"].erase("b");  // id 1 missing: a gap in the ids
    j["model"]["merges"] = nlohmann::json::array();
    EXPECT_EQ(kind_of([&] { Tokenizer::from_hf_json(j.dump()); }), ErrorKind::FormatError);
    j = small_json();
    j["model"]["vocab"] = 7;
    EXPECT_EQ(kind_of([&] { Tokenizer::from_hf_json(j.dump()); }), ErrorKind::FormatError);
}

TEST(TokenizerErrors, UnsupportedComponentsAreNamed) {
    std::string msg;
    auto j = small_json();
    j["model"]["type"] = "WordPiece";
    EXPECT_EQ(kind_of([&] { Tokenizer::from_hf_json(j.dump()); }, &msg), ErrorKind::Unsupported);
    EXPECT_NE(msg.find("WordPiece"), std::string::npos) << msg;
    j = small_json();
    j["normalizer"] = {{"type", "Lowercase"}};
    EXPECT_EQ(kind_of([&] { Tokenizer::from_hf_json(j.dump()); }, &msg), ErrorKind::Unsupported);
    EXPECT_NE(msg.find("Lowercase"), std::string::npos) << msg;
    j = small_json();
    j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}, {"invert", false}};
    EXPECT_EQ(kind_of([&] { Tokenizer::from_hf_json(j.dump()); }, &msg), ErrorKind::InvalidArgument);
    EXPECT_NE(msg.find("regex"), std::string::npos) << msg;
}

TEST(TokenizerErrors, UnknownPreTokenizerAndModelInGgufVocabulary) {
    const Tokenizer tok = Tokenizer::from_hf_json(small_json().dump());
    Vocabulary v = tok.vocabulary();
    EXPECT_EQ(v.model, "gpt2");
    EXPECT_EQ(v.pre, "gpt2");
    v.pre = "no-such-pre";
    std::string msg;
    EXPECT_EQ(kind_of([&] { Tokenizer::from_vocabulary(v); }, &msg), ErrorKind::Unsupported);
    EXPECT_NE(msg.find("no-such-pre"), std::string::npos) << msg;
    v = tok.vocabulary();
    v.model = "bert";
    EXPECT_EQ(kind_of([&] { Tokenizer::from_vocabulary(v); }, &msg), ErrorKind::Unsupported);
    v = tok.vocabulary();
    v.token_types.pop_back();
    EXPECT_EQ(kind_of([&] { Tokenizer::from_vocabulary(v); }), ErrorKind::FormatError);
    v = tok.vocabulary();
    v.bos_id = 1000;
    EXPECT_EQ(kind_of([&] { Tokenizer::from_vocabulary(v); }), ErrorKind::InvalidArgument);
    v = tok.vocabulary();
    v.model = "llama";  // SentencePiece needs scores
    EXPECT_EQ(kind_of([&] { Tokenizer::from_vocabulary(v); }), ErrorKind::FormatError);
}

TEST(TokenizerErrors, InvalidUtf8AndBadIds) {
    const Tokenizer tok = Tokenizer::from_hf_json(small_json().dump());
    std::string msg;
    EXPECT_EQ(kind_of([&] { tok.encode("ab\xff"); }, &msg), ErrorKind::InvalidArgument);
    EXPECT_NE(msg.find("UTF-8"), std::string::npos) << msg;
    EXPECT_EQ(kind_of([&] { tok.encode("\xed\xa0\x80"); }), ErrorKind::InvalidArgument);  // surrogate
    const std::vector<int32_t> bad{0, 6};
    EXPECT_EQ(kind_of([&] { tok.decode(bad); }, &msg), ErrorKind::InvalidArgument);
    EXPECT_NE(msg.find("outside the vocabulary"), std::string::npos) << msg;
    const std::vector<int32_t> negative{-3};
    EXPECT_EQ(kind_of([&] { tok.decode(negative); }), ErrorKind::InvalidArgument);
    EXPECT_EQ(kind_of([&] { tok.token_text(99); }), ErrorKind::InvalidArgument);
}

// Random damage to a valid tokenizer.json: every outcome must be a tokenizer or an llcuda::Error
// (any other exception, or a crash, fails). Deterministic seed so a failure reproduces.
TEST(TokenizerErrors, MutatedJsonNeverEscapesAsAnotherException) {
    const std::string base = small_json().dump();
    std::mt19937 rng(7);
    const std::string alphabet = "{}[]\":,0123456789-eE.abnlrstu \\\xff\xc3";
    size_t errors = 0, loaded = 0;
    for (int iter = 0; iter < 3000; ++iter) {
        std::string s = base;
        const int n_edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < n_edits && !s.empty(); ++e) {
            const size_t pos = rng() % s.size();
            switch (rng() % 3) {
                case 0: s[pos] = alphabet[rng() % alphabet.size()]; break;
                case 1: s.erase(pos, 1 + rng() % 8); break;
                default: s.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
            }
        }
        try {
            const Tokenizer tok = Tokenizer::from_hf_json(s);
            ++loaded;
            (void)tok.decode(tok.encode("ab ab<s> a\xc3\xa9", {.replace_invalid_utf8 = true}));
        } catch (const Error&) {
            ++errors;
        } catch (const std::exception& e) {
            ADD_FAILURE() << "non-llcuda exception \"" << e.what() << "\" for input " << s;
        }
    }
    std::printf("[fuzz] mutated tokenizer.json: %zu loaded, %zu rejected with llcuda::Error\n", loaded, errors);
    EXPECT_GT(errors, 0u);
}

TEST(TokenizerErrors, MissingFiles) {
    EXPECT_EQ(kind_of([] { Tokenizer::from_hf_json_file("/nonexistent/tokenizer.json"); }), ErrorKind::Io);
}

}  // namespace
}  // namespace llcuda::test
