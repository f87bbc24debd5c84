// Pre-tokenization: cutting normalized text into the "words" that BPE runs on, as HF's
// `pre_tokenizer` does. Steps run in order, each on every piece the previous step produced:
//   Split      a regex; every match and every gap between matches becomes a piece ("Isolated")
//   Digits     numeric characters split off (one piece per digit, or per run)
//   ByteLevel  optional " " prefix, optional GPT-2 regex split, then every byte mapped to its
//              printable character (must be the last step)
//   Metaspace  " " -> "▁", "▁" prepended (always, or only to the text at the start of the input),
//              optionally split before every "▁" (SentencePiece-style tokenizer.json files)
// Regexes run on PCRE2 with UTF + UCP. Oniguruma (what HF uses) and PCRE2 disagree on what \s
// is, so patterns are rewritten to Oniguruma's meaning (see translate_regex in pretokenizer.cpp).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace llcuda::tokenizer_detail {

inline constexpr std::string_view kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// A compiled PCRE2 pattern (JIT when available); immutable and shareable between threads.
class Regex {
public:
    explicit Regex(std::string_view pattern);  // throws InvalidArgument with PCRE2's message
    ~Regex();
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;
    const std::string& pattern() const { return pattern_; }
    // Appends to `out` the pieces of `text`: matches and the gaps between them, in order.
    void split_isolated(std::string_view text, std::vector<std::string>& out) const;

private:
    std::string pattern_;
    void* code_ = nullptr;  // pcre2_code_8*
};

struct PreTokenizerStep {
    enum class Kind { Split, Digits, ByteLevel, Metaspace };
    enum class Prepend { Never, First, Always };
    Kind kind = Kind::Split;
    std::string regex;               // Split: the pattern as written in tokenizer.json
    bool individual_digits = false;  // Digits
    bool add_prefix_space = false;   // ByteLevel
    bool use_regex = true;           // ByteLevel: split with the GPT-2 regex first
    std::string replacement;         // Metaspace: "▁"
    Prepend prepend = Prepend::Always;  // Metaspace
    bool split = false;              // Metaspace: split before each replacement
};

class PreTokenizer {
public:
    PreTokenizer() = default;
    explicit PreTokenizer(std::vector<PreTokenizerStep> steps);
    const std::vector<PreTokenizerStep>& steps() const { return steps_; }
    bool byte_level() const;  // tokens are in GPT-2 byte-to-unicode form
    // Words of one normalized text segment (byte-level mapped when byte_level()). `at_input_start`:
    // the segment begins the input (Metaspace's "first" prepend scheme applies only there).
    std::vector<std::string> split(std::string_view text, bool at_input_start = true) const;

private:
    std::vector<PreTokenizerStep> steps_;
    std::vector<std::shared_ptr<const Regex>> regexes_;  // one per step, null when none
};

}  // namespace llcuda::tokenizer_detail
