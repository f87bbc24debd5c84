// The BPE model: turns one pre-tokenized word into ids by repeatedly merging the adjacent pair of
// symbols with the lowest merge rank (the leftmost of equal ranks), as HF and SentencePiece do.
// The ranks come from one of two sources, the only difference between the vocabulary families:
//   ranks   byte-level BPE and HF tokenizer.json: the explicit merge list
//   scores  SentencePiece (GGUF "llama"): every split of a normal or user-defined token into two
//           tokens is a merge, ordered by the token's score (higher first), ties by (merged id,
//           left id): the order transformers gives the merge list it derives from the same scores.
//           build_score_merges() turns this into a rank table once, at load time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "llcuda/tokenizer.h"
#include "tokenizer/pair_table.h"

namespace llcuda::tokenizer_detail {

// string -> id map that can be searched with a string_view (no temporary strings on lookups).
struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

struct BpeModel {
    enum class Priority { Ranks, Scores };
    Priority priority = Priority::Ranks;

    // Vocabulary (shared with the rest of the tokenizer).
    const std::vector<std::string>* tokens = nullptr;
    const std::vector<float>* scores = nullptr;
    const std::vector<TokenType>* types = nullptr;
    const TokenMap* token_ids = nullptr;

    PairTable merges;  // (left, right) -> {rank, merged id}
    std::vector<int32_t> small_cp_ids;  // id of the token that is exactly code point cp < 512, or -1

    bool byte_fallback = false;  // unknown characters become <0xXX> tokens
    bool fuse_unk = false;       // consecutive unknowns become one unk
    bool ignore_merges = false;  // a word that is a token is emitted whole (Llama-3)
    int32_t unk_id = -1;         // -1: unknown characters are dropped (as HF does without unk)
    int32_t byte_ids[256];       // <0xXX> token ids, -1 when absent

    // Fills byte_ids and small_cp_ids from the vocabulary.
    void init_lookup_tables();
    // Fills `merges` from scores (Priority::Scores).
    void build_score_merges();
    // Appends the ids of one word.
    void encode_word(std::string_view word, std::vector<int32_t>& out) const;
};

}  // namespace llcuda::tokenizer_detail
