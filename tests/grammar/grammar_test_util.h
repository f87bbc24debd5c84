// Shared by the grammar tests: the repository's tokenizers as the grammar sees them.
#pragma once

#include <memory>

#include "grammar/token_vocabulary.h"
#include "llcuda/tokenizer.h"
#include "test_paths.h"

namespace llcuda::grammar::test {

struct LoadedVocabulary {
    std::unique_ptr<Tokenizer> tokenizer;
    std::shared_ptr<const TokenVocabulary> vocab;
};

// tests/data tokenizers: "qwen3" (byte-level BPE, 151k tokens), "mistral-7b" (SentencePiece with
// byte fallback and a leading-space strip), "llama3-instruct".
inline LoadedVocabulary load_vocabulary(const std::string& name) {
    LoadedVocabulary v;
    v.tokenizer = std::make_unique<Tokenizer>(
        Tokenizer::from_hf_json_file(llcuda::test::test_data_dir() / "tokenizers" / name / "tokenizer.json"));
    v.vocab = build_token_vocabulary(*v.tokenizer, uint32_t(v.tokenizer->n_vocab()), {v.tokenizer->eos_id()});
    return v;
}

inline bool bit(const std::vector<uint64_t>& mask, int32_t t) { return (mask[size_t(t) >> 6] >> (t & 63)) & 1; }

}  // namespace llcuda::grammar::test
