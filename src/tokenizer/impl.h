// The one internal description every Tokenizer is built into, whatever its source (GGUF metadata
// or tokenizer.json): vocabulary, added tokens, normalizer, pre-tokenizer, BPE model, decoder and
// the ids the post-processor puts around a sequence. Loaders fill the fields, then call finalize().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "llcuda/tokenizer.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/decoder.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/pretokenizer.h"

namespace llcuda::tokenizer_detail {

struct Impl {
    // Vocabulary: tokens[id], with scores (SentencePiece only) and GGUF token types.
    std::vector<std::string> tokens;
    std::vector<float> scores;
    std::vector<TokenType> types;
    TokenMap token_ids;                     // filled by finalize()
    std::vector<std::string> merge_strings; // "left right", rank order (Ranks priority only)

    std::vector<AddedToken> added;
    Normalizer normalizer;
    PreTokenizer pre;
    BpeModel bpe;
    Decoder decoder;
    std::vector<int32_t> prefix_ids, suffix_ids;  // added around a sequence when add_special

    int32_t bos_id = -1, eos_id = -1, pad_id = -1;
    int32_t unk_id = -1;     // declared unknown token (the BPE model only uses it with byte fallback)
    std::string gguf_model;  // "gpt2" / "llama" when known (GGUF source), else derived on export
    std::string gguf_pre;    // tokenizer.ggml.pre when known

    std::vector<uint8_t> special;  // per id: 1 when skip_special drops it
    AddedTokenMatcher matcher;

    // Checks sizes and ids, builds token_ids, the merge table, byte ids, the matcher.
    void finalize();
    void check_id(int32_t id, const char* what) const;
};

// Loaders (one file each).
std::unique_ptr<Impl> load_vocabulary(const Vocabulary& vocab);
std::unique_ptr<Impl> load_hf_json(std::string_view json_text);
// bos/eos/pad ids named by a tokenizer_config.json (after load_hf_json).
void apply_tokenizer_config(Impl& impl, std::string_view config_text);
Vocabulary export_vocabulary(const Impl& impl);

// Pre-tokenizer presets named by `tokenizer.ggml.pre` (presets.cpp).
struct PrePreset {
    std::vector<PreTokenizerStep> steps;
    bool nfc = false;            // the HF tokenizer of that family declares an NFC normalizer
    bool ignore_merges = false;  // whole-word lookup before merging (Llama-3)
};
PrePreset pre_preset(const std::string& name);  // throws Unsupported for unknown names
// The preset name that stands for this pre-tokenizer + normalizer, or "" when none does.
std::string pre_preset_name(const PreTokenizer& pre, const Normalizer& normalizer, bool ignore_merges);

}  // namespace llcuda::tokenizer_detail
