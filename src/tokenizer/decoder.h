// Decoders: token strings -> text, as HF's `decoder` chain does it. Each step maps the list of
// token strings to a new list; the result is their concatenation.
//   ByteLevel     all tokens -> bytes through the GPT-2 map (a token with a character outside the
//                 map keeps its own bytes), then one lossy UTF-8 conversion of the whole
//   Replace       literal replacement in every token ("▁" -> " ")
//   ByteFallback  runs of <0xXX> tokens -> their bytes if the run is valid UTF-8, else one U+FFFD
//                 per token of the run
//   Fuse          all tokens -> one
//   Strip         remove up to `start` leading and `stop` trailing `content` characters per token
//   Metaspace     "▁" -> " " in every token, except in the first token where (unless the prepend
//                 scheme is "never", start = 0) every "▁" is dropped, as HF does
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace llcuda::tokenizer_detail {

struct DecoderStep {
    enum class Kind { ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace };
    Kind kind = Kind::ByteLevel;
    std::string a, b;          // Replace: pattern, replacement; Strip: content character
    size_t start = 0, stop = 0;  // Strip; Metaspace: start 1 = drop "▁" in the first token
};

class Decoder {
public:
    void add(DecoderStep step) { steps_.push_back(std::move(step)); }
    const std::vector<DecoderStep>& steps() const { return steps_; }
    bool byte_level() const;
    std::string decode(std::vector<std::string> tokens) const;

private:
    std::vector<DecoderStep> steps_;
};

// The byte value of a "<0xXX>" token, or -1.
int byte_token_value(const std::string& token);

}  // namespace llcuda::tokenizer_detail
