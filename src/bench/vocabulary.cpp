#include "bench/vocabulary.h"

#include <string>
#include <unordered_set>

#include <fmt/format.h>

#include "bench/random_fill.h"
#include "llcuda/error.h"
#include "tokenizer/byte_level.h"

namespace llcuda::bench {
namespace {

// Llama 3's first control tokens; the rest are <|reserved_special_token_N|>.
std::vector<std::string> special_tokens(uint32_t n) {
    const char* named[] = {"<|begin_of_text|>", "<|end_of_text|>", nullptr, nullptr, nullptr, nullptr,
                           "<|start_header_id|>", "<|end_header_id|>", nullptr, "<|eot_id|>"};
    std::vector<std::string> out;
    uint32_t reserved = 0;
    for (uint32_t i = 0; i < n; ++i) {
        if (i < std::size(named) && named[i]) out.emplace_back(named[i]);
        else out.push_back(fmt::format("<|reserved_special_token_{}|>", reserved++));
    }
    return out;
}

}  // namespace

Vocabulary bench_vocabulary(const BenchShape& shape) {
    if (shape.n_special < 2 || shape.n_vocab < 256 + shape.n_special)
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("bench model: a vocabulary of {} tokens cannot hold 256 bytes and {} control tokens",
                                shape.n_vocab, shape.n_special));
    Vocabulary v;
    v.model = "gpt2";
    v.pre = "llama-bpe";
    const uint32_t n_normal = shape.n_vocab - shape.n_special;
    v.tokens.reserve(shape.n_vocab);
    const auto& bytes = tokenizer_detail::ByteLevelMap::get();
    for (int b = 0; b < 256; ++b) {
        std::string piece;
        bytes.encode(std::string(1, char(b)), piece);
        v.tokens.push_back(std::move(piece));
    }
    // Each further piece merges an earlier piece with a letter or space byte, so the merge list is
    // a valid BPE (every part and every result is a token) and pieces stay short.
    std::unordered_set<std::string> seen(v.tokens.begin(), v.tokens.end());
    const std::string letters = "abcdefghijklmnopqrstuvwxyz etaoinsr";
    SplitMix64 rng{0x70CE1Full};
    while (v.tokens.size() < n_normal) {
        const std::string& left = v.tokens[rng.next() % v.tokens.size()];
        const std::string& right = v.tokens[uint8_t(letters[rng.next() % letters.size()])];
        std::string merged = left + right;
        if (!seen.insert(merged).second) continue;
        v.merges.push_back(left + " " + right);
        v.tokens.push_back(std::move(merged));
    }
    v.token_types.assign(n_normal, TokenType::Normal);
    for (auto& s : special_tokens(shape.n_special)) {
        v.tokens.push_back(std::move(s));
        v.token_types.push_back(TokenType::Control);
    }
    v.bos_id = int32_t(n_normal);      // <|begin_of_text|>
    v.eos_id = int32_t(n_normal + 1);  // <|end_of_text|>
    v.add_bos = true;
    return v;
}

}  // namespace llcuda::bench
