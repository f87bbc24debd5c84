// Normalizers applied to each text segment before pre-tokenization (HF `normalizer`): Unicode
// normal forms (through ICU: composition tables are data, not something to hand-write), "Prepend"
// (SentencePiece's "▁" space prefix, only on non-empty text) and literal "Replace" (" " -> "▁").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llcuda::tokenizer_detail {

struct NormalizerStep {
    enum class Kind { Nfc, Nfd, Nfkc, Nfkd, Prepend, Replace };
    Kind kind = Kind::Nfc;
    std::string a;  // Prepend: the prefix; Replace: the pattern
    std::string b;  // Replace: the replacement
};

class Normalizer {
public:
    void add(NormalizerStep step) { steps_.push_back(std::move(step)); }
    const std::vector<NormalizerStep>& steps() const { return steps_; }
    bool empty() const { return steps_.empty(); }
    bool has(NormalizerStep::Kind kind) const;
    std::string apply(std::string_view text) const;

private:
    std::vector<NormalizerStep> steps_;
};

// Unicode normal form of valid UTF-8 text (kind is one of Nfc/Nfd/Nfkc/Nfkd).
std::string unicode_normalize(std::string_view text, NormalizerStep::Kind kind);

}  // namespace llcuda::tokenizer_detail
