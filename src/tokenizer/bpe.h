// The BPE model: turns one pre-tokenized word into ids by repeatedly merging the best adjacent
// pair of symbols. "Best" comes from one of two sources, which is the only difference between the
// two vocabulary families:
//   ranks   byte-level BPE and HF tokenizer.json: an explicit merge list; lower rank first
//   scores  SentencePiece (GGUF "llama"): any pair whose concatenation is a normal or user-defined
//           token may merge; higher token score first, ties by (merged id, left id), which is the
//           order transformers gives the merge list it derives from the same scores
// Equal priorities resolve to the leftmost pair, as in HF and SentencePiece.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "llcuda/tokenizer.h"

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

    // Ranks: (left id << 32 | right id) -> {rank, merged id}.
    struct Merge { int32_t rank; int32_t id; };
    std::unordered_map<uint64_t, Merge> merges;

    bool byte_fallback = false;  // unknown characters become <0xXX> tokens
    bool fuse_unk = false;       // consecutive unknowns become one unk
    bool ignore_merges = false;  // a word that is a token is emitted whole (Llama-3)
    int32_t unk_id = -1;         // -1: unknown characters are dropped (as HF does without unk)
    int32_t byte_ids[256];       // <0xXX> token ids, -1 when absent

    // Fills byte_ids from the vocabulary.
    void init_byte_ids();
    // Appends the ids of one word.
    void encode_word(std::string_view word, std::vector<int32_t>& out) const;
};

}  // namespace llcuda::tokenizer_detail
