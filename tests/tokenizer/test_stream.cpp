// StreamDecoder properties, on every golden tokenizer: pieces are always valid UTF-8, and their
// concatenation equals decode() of all ids (which the golden tests tie to HF). Inputs: the
// golden edge cases and random id sequences from the decode goldens (these cut UTF-8 sequences
// and byte-fallback runs in every possible place).
#include <gtest/gtest.h>

#include <thread>

#include "golden_io.h"
#include "llcuda/error.h"
#include "tokenizer/utf8.h"

namespace llcuda::test {
namespace {

using tokenizer_detail::utf8_first_invalid;

class TokenizerStream : public testing::TestWithParam<size_t> {};

TEST_P(TokenizerStream, PiecesAreValidAndConcatenateToDecode) {
    const GoldenSource src = golden_sources()[GetParam()];
    LLCUDA_REQUIRE_SOURCE(src);
    const Tokenizer& tok = golden_tokenizer(src, LoadMode::Source);

    std::vector<std::vector<int32_t>> seqs;
    for (const auto& c : read_jsonl(golden_dir() / "tokenizer" / (src.name + ".edge.jsonl"))) seqs.push_back(c["ids"].get<std::vector<int32_t>>());
    for (const auto& c : read_jsonl(golden_dir() / "tokenizer" / (src.name + ".decode.jsonl"))) seqs.push_back(c["ids"].get<std::vector<int32_t>>());
    ASSERT_GT(seqs.size(), 400u);

    size_t failures = 0, held_back = 0;
    for (const auto& ids : seqs) {
        for (bool skip : {false, true}) {
            StreamDecoder stream(tok, {.skip_special = skip});
            std::string all;
            bool pieces_valid = true;
            for (int32_t id : ids) {
                const std::string piece = stream.push(id);
                pieces_valid = pieces_valid && utf8_first_invalid(piece) == std::string::npos;
                all += piece;
            }
            const std::string tail = stream.finish();
            held_back += !tail.empty();
            all += tail;
            const bool ok = pieces_valid && utf8_first_invalid(tail) == std::string::npos && all == tok.decode(ids, {.skip_special = skip});
            if (!ok && failures++ < 5) ADD_FAILURE() << src.name << ": stream \"" << all << "\" vs decode \"" << tok.decode(ids, {.skip_special = skip}) << "\"";
        }
    }
    std::printf("[stream] %-8s %zu failures of %zu sequences (%zu held bytes back until finish)\n", src.name.c_str(), failures,
                seqs.size() * 2, held_back);
    EXPECT_EQ(failures, 0u);
    EXPECT_GT(held_back, 0u) << "the inputs never exercised holding back an incomplete sequence";
}

TEST_P(TokenizerStream, RejectsIdsOutsideTheVocabulary) {
    const GoldenSource src = golden_sources()[GetParam()];
    LLCUDA_REQUIRE_SOURCE(src);
    const Tokenizer& tok = golden_tokenizer(src, LoadMode::Source);
    StreamDecoder stream(tok);
    EXPECT_THROW(stream.push(static_cast<int32_t>(tok.n_vocab())), Error);
    EXPECT_THROW(stream.push(-1), Error);
}

INSTANTIATE_TEST_SUITE_P(All, TokenizerStream, testing::Range<size_t>(0, 5),
                         [](const testing::TestParamInfo<size_t>& i) { return golden_sources()[i.param].name; });

}  // namespace
}  // namespace llcuda::test

namespace llcuda::test {
namespace {

// encode() is const and documented thread-safe (scratch buffers are thread_local, PCRE2 match
// data per call): four threads encoding the same texts through one Tokenizer must agree with one.
TEST(TokenizerThreads, ConcurrentEncodeMatchesSerial) {
    for (size_t source : {size_t{1}, size_t{4}}) {  // qwen3 (regex + NFC), gemma3 (score merges)
        const GoldenSource src = golden_sources()[source];
        LLCUDA_REQUIRE_SOURCE(src);
        const Tokenizer& tok = golden_tokenizer(src, LoadMode::Source);
        const auto lines = austen_lines();
        std::vector<std::string> texts(lines.begin(), lines.begin() + std::min<size_t>(4000, lines.size()));
        std::vector<std::vector<int32_t>> serial;
        for (const auto& t : texts) serial.push_back(tok.encode(t));
        std::vector<size_t> wrong(4, 0);
        std::vector<std::thread> threads;
        for (size_t w = 0; w < 4; ++w)
            threads.emplace_back([&, w] {
                for (size_t i = w; i < texts.size() * 2; i += 3) {
                    const size_t k = i % texts.size();
                    if (tok.encode(texts[k]) != serial[k]) ++wrong[w];
                }
            });
        for (auto& t : threads) t.join();
        for (size_t w = 0; w < 4; ++w) EXPECT_EQ(wrong[w], 0u) << src.name << " thread " << w;
    }
}

}  // namespace
}  // namespace llcuda::test
