// Token masks on real vocabularies: the trie walk gives exactly the tokens whose bytes the grammar
// accepts one by one (brute force over the whole vocabulary, on random states), tokens that end
// inside a UTF-8 character are allowed exactly when it can still be completed, and the two
// tokenizer families (byte-level BPE, SentencePiece byte fallback) are read correctly.
#include <random>

#include <gtest/gtest.h>

#include "grammar/matcher.h"
#include "grammar_test_util.h"
#include "llcuda/error.h"
#include "llcuda/grammar.h"

namespace llcuda::grammar {
namespace {

using test::bit;
using test::load_vocabulary;

Grammar compile(const std::string& gbnf) { return parse_gbnf(gbnf); }

// Brute force: a token is allowed iff all its bytes step the automaton from `state` to a live state
// (the first `strip` spaces skipped: a SentencePiece decoder drops the output's leading space).
bool brute_allowed(Automaton& a, int32_t state, const std::string& bytes, size_t strip) {
    if (bytes.empty()) return false;
    size_t from = 0;
    while (from < bytes.size() && from < strip && bytes[from] == ' ') ++from;
    for (char c : bytes.substr(from)) {
        state = a.step(state, uint8_t(c));
        if (state == Automaton::kDead) return false;
    }
    return true;
}

// A random walk through the grammar; at every step the mask must equal the brute-force set.
// closers: every other step, prefer tokens holding one of these bytes (ends strings and objects
// sooner, so a walk reaches many contexts: array items, fields).
void check_walk(const std::string& gbnf, const std::string& vocab_name, int steps, uint64_t seed,
                const std::string& closers = "") {
    auto v = load_vocabulary(vocab_name);
    Automaton reference(parse_gbnf(gbnf));  // separate tables: no shared cache between the two
    Matcher m(v.vocab, compile(gbnf));
    int32_t ref_state = reference.initial();
    size_t strip = v.vocab->strip_leading_spaces;
    std::mt19937_64 rng(seed);
    for (int step = 0; step < steps && !m.only_end(); ++step) {
        const auto& mask = m.allowed();
        std::vector<int32_t> allowed;
        size_t mismatches = 0;
        for (uint32_t t = 0; t < v.vocab->n_rows; ++t) {
            const bool expect = v.vocab->is_end(int32_t(t)) ? reference.accepting(ref_state)
                                                             : brute_allowed(reference, ref_state, v.vocab->bytes[t], strip);
            if (bit(mask, int32_t(t)) != expect && ++mismatches <= 5) {
                ADD_FAILURE() << "step " << step << " token " << t << " '" << v.vocab->bytes[t] << "' mask " << bit(mask, int32_t(t))
                              << " brute force " << expect;
            }
            if (expect && !v.vocab->is_end(int32_t(t))) allowed.push_back(int32_t(t));
        }
        ASSERT_EQ(mismatches, 0u);
        if (allowed.empty()) break;
        std::vector<int32_t> closing;
        if (!closers.empty() && step % 2 == 1) {
            for (int32_t a : allowed) {
                if (v.vocab->bytes[size_t(a)].find_first_of(closers) != std::string::npos) closing.push_back(a);
            }
        }
        const auto& pool = closing.empty() ? allowed : closing;
        const int32_t t = pool[rng() % pool.size()];
        m.accept(t);
        for (char c : v.vocab->bytes[size_t(t)]) {
            if (strip > 0 && c == ' ') { --strip; continue; }
            strip = 0;
            ref_state = reference.step(ref_state, uint8_t(c));
        }
    }
}

TEST(GrammarMask, EqualsBruteForceForJsonOnQwen3) {
    check_walk(json_object_grammar(), "qwen3", 12, 1);
}

TEST(GrammarMask, EqualsBruteForceForUnicodeClassesOnQwen3) {
    // Multi-byte classes, negation and a literal with a 4-byte character: tokens that stop inside
    // a character are decided by whether it can still be completed.
    check_walk(R"g(root ::= ([α-ω] | [^a-z\x00-\x7F] | "😀x" | [a-c]{2})+ "." )g", "qwen3", 12, 2);
}

// Strings with a length limit inside array items: each character position is its own state in
// every item, so the masks come from frames (the cut state walked once, its exits in context).
TEST(GrammarMask, EqualsBruteForceAcrossArrayItems) {
    const std::string schema = R"j({"type": "array", "minItems": 2, "maxItems": 6, "items": {"type": "object",
        "properties": {"name": {"type": "string", "maxLength": 12}, "age": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"enum": ["a", "bc"]}, "maxItems": 3}}, "required": ["name", "age"]}})j";
    check_walk(json_schema_to_grammar(schema), "llama3-instruct", 70, 5, "\",}]");
    check_walk(R"g(root ::= ("<" [a-z]{0,6} ">" [ ]?){1,5} "." )g", "qwen3", 40, 6, ">.");
}

TEST(GrammarMask, EqualsBruteForceOnSentencePiece) {
    check_walk(R"g(root ::= "{" [a-z ]{1,8} ("é" | "日本")* "}" )g", "mistral-7b", 10, 3);
}

TEST(GrammarMask, PartialUtf8TokensOnByteLevelBpe) {
    auto v = load_vocabulary("qwen3");
    // Byte-level tokens for the single bytes C3 ('Ã' in GPT-2's map) and A9 ('©'), AA ('ª').
    const int32_t c3 = v.tokenizer->token_id("\xC3\x83"), a9 = v.tokenizer->token_id("\xC2\xA9"),
                  aa = v.tokenizer->token_id("\xC2\xAA");
    ASSERT_GE(c3, 0);
    ASSERT_GE(a9, 0);
    ASSERT_GE(aa, 0);
    ASSERT_EQ(v.vocab->bytes[size_t(c3)], "\xC3");
    Matcher m(v.vocab, compile(R"g(root ::= "é" "!")g"));
    EXPECT_TRUE(m.is_allowed(c3));   // the first byte of é
    EXPECT_FALSE(m.is_allowed(a9));  // a continuation byte cannot start
    m.accept(c3);
    EXPECT_TRUE(m.is_allowed(a9));   // completes é
    EXPECT_FALSE(m.is_allowed(aa));  // completes ê: not in the grammar
    EXPECT_FALSE(m.is_allowed(v.tokenizer->eos_id()));
    m.accept(a9);
    EXPECT_FALSE(m.complete());
    m.accept(v.tokenizer->token_id("!"));
    EXPECT_TRUE(m.complete());
    EXPECT_TRUE(m.only_end());
    const auto& mask = m.allowed();
    size_t n = 0;
    for (uint64_t w : mask) n += size_t(__builtin_popcountll(w));
    EXPECT_EQ(n, 1u);  // only end-of-generation
    EXPECT_TRUE(bit(mask, v.tokenizer->eos_id()));
    EXPECT_THROW(m.accept(c3), Error);
}

TEST(GrammarMask, SentencePieceByteFallbackAndLeadingSpace) {
    auto v = load_vocabulary("mistral-7b");
    ASSERT_GT(v.vocab->strip_leading_spaces, 0u);  // its decoder drops the output's first space
    const int32_t x = v.tokenizer->token_id("x"), space_x = v.tokenizer->token_id("\xE2\x96\x81x");
    const int32_t byte_c3 = v.tokenizer->token_id("<0xC3>"), byte_a9 = v.tokenizer->token_id("<0xA9>");
    ASSERT_GE(x, 0);
    ASSERT_GE(space_x, 0);
    ASSERT_GE(byte_c3, 0);
    EXPECT_EQ(v.vocab->bytes[size_t(space_x)], " x");
    EXPECT_EQ(v.vocab->bytes[size_t(byte_c3)], "\xC3");
    {
        Matcher m(v.vocab, compile(R"g(root ::= "x" "é")g"));
        EXPECT_TRUE(m.is_allowed(x));
        EXPECT_TRUE(m.is_allowed(space_x));  // " x" decodes to "x" at the start of the output
        m.accept(space_x);
        EXPECT_TRUE(m.is_allowed(byte_c3));
        EXPECT_FALSE(m.is_allowed(space_x));  // later spaces are text
        m.accept(byte_c3);
        EXPECT_TRUE(m.is_allowed(byte_a9));
        m.accept(byte_a9);
        EXPECT_TRUE(m.complete());
    }
    // The decoded text of what the matcher accepted is the grammar's sentence.
    EXPECT_EQ(v.tokenizer->decode(std::vector<int32_t>{space_x, byte_c3, byte_a9}), "x\xC3\xA9");
}

TEST(GrammarMask, ControlTokensAreNeverText) {
    auto v = load_vocabulary("qwen3");
    const int32_t im_start = v.tokenizer->token_id("<|im_start|>");
    ASSERT_GE(im_start, 0);
    Matcher m(v.vocab, compile(R"g(root ::= [^\n]* )g"));
    EXPECT_FALSE(m.is_allowed(im_start));
    EXPECT_TRUE(m.is_allowed(v.tokenizer->eos_id()));  // the empty text is complete
}

TEST(GrammarMask, GrammarTheVocabularyCannotSpellIsAClearError) {
    // A vocabulary of two tokens, neither of which starts with "z".
    Vocabulary voc;
    voc.model = "gpt2";
    voc.pre = "gpt2";
    voc.tokens = {"a", "b", "<eos>"};
    voc.token_types = {TokenType::Normal, TokenType::Normal, TokenType::Control};
    voc.eos_id = 2;
    const Tokenizer tok = Tokenizer::from_vocabulary(voc);
    Matcher m(build_token_vocabulary(tok, 3, {2}), compile(R"g(root ::= "z")g"));
    EXPECT_THROW(m.allowed(), Error);
}

}  // namespace
}  // namespace llcuda::grammar
