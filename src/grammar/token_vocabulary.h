// What the grammar sees of a model's vocabulary: the bytes each token adds to the output text,
// the end-of-generation ids, and a byte trie of all tokens, built once per model and shared
// (read-only) by every constrained request.
//
// A token's bytes are what the tokenizer's decoder makes of it before any UTF-8 repair:
//   byte-level BPE   every character of the stored token mapped back through GPT-2's byte map
//                    (a token with characters outside the map is its own UTF-8 text, as in HF)
//   SentencePiece    "<0xXX>" byte-fallback tokens are the single byte XX; other tokens are their
//                    text with the decoder's replacements ("▁" -> " ")
// Control tokens (chat markers, BOS/EOS), unknown and unused tokens have no bytes: a grammar never
// produces them. End-of-generation tokens are kept apart: allowed exactly when the grammar is
// complete. Rows past the tokenizer's vocabulary (padded embedding matrices) are never allowed.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "llcuda/tokenizer.h"

namespace llcuda::grammar {

struct TokenVocabulary {
    uint32_t n_rows = 0;              // logits row length (the model's n_vocab)
    std::vector<std::string> bytes;   // [n_rows]; empty: never produced by a grammar
    std::vector<int32_t> end_ids;     // sorted end-of-generation ids (< n_rows)
    size_t strip_leading_spaces = 0;  // the decoder drops this many leading spaces of the output

    // Byte trie of every token with bytes, in preorder (the root is implicit): node i consumes
    // node_byte[i] at depth node_depth[i] (1-based), its subtree is [i, node_end[i]), and the tokens
    // whose bytes end exactly there are order[tok_begin[i] .. tok_begin[i + 1]).
    std::vector<uint8_t> node_byte;     // [n_nodes]
    std::vector<uint16_t> node_depth;   // [n_nodes]
    std::vector<uint32_t> node_end;     // [n_nodes]
    std::vector<uint32_t> tok_begin;    // [n_nodes + 1]
    std::vector<int32_t> order;         // token ids grouped by node
    uint16_t max_depth = 0;

    bool is_end(int32_t id) const;
};

// A vocabulary of the given token bytes (the row count is bytes.size(); empty bytes: never text) and
// end ids, with its trie. Throws InvalidArgument when a token is longer than 65535 bytes or an end
// id is outside the rows. (build_token_vocabulary's core; fuzzers and tests build small ones.)
std::shared_ptr<TokenVocabulary> vocabulary_from_bytes(std::vector<std::string> bytes, std::vector<int32_t> end_ids);

// Builds the view of `tokenizer` for logits rows of `n_rows` entries. Throws InvalidArgument when a
// token is longer than 65535 bytes or an end id is outside the rows.
std::shared_ptr<const TokenVocabulary> build_token_vocabulary(const Tokenizer& tokenizer, uint32_t n_rows,
                                                              std::vector<int32_t> end_ids);

// The bytes one token adds to the decoded text (see above); empty for control tokens.
std::string token_bytes(const Tokenizer& tokenizer, int32_t id);

// A model's TokenVocabulary, built by the first constrained request (whichever thread) and shared
// by all later ones; a model never used with a grammar never pays for it.
class LazyTokenVocabulary {
public:
    std::shared_ptr<const TokenVocabulary> get(const Tokenizer& tokenizer, uint32_t n_rows,
                                               const std::unordered_set<int32_t>& end_ids) const;

private:
    mutable std::once_flag once_;
    mutable std::shared_ptr<const TokenVocabulary> vocab_;
};

}  // namespace llcuda::grammar
