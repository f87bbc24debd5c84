// Text <-> token ids for the models llcuda runs: byte-level BPE (GPT-2, Llama-3, Qwen, SmolLM) and
// SentencePiece-style BPE with byte fallback (Llama-2, Mistral, Gemma).
//
// A Tokenizer is built from GGUF metadata (`tokenizer.ggml.*`) or from a Hugging Face
// tokenizer.json, and behaves like Hugging Face `tokenizers` on the same data: same ids, same decoded
// text. Both sources are turned into one internal description (vocabulary + normalizer +
// pre-tokenizer + model + decoder), and `vocabulary()` exports the GGUF view of it, so a converter
// can write `tokenizer.ggml.*` and reading that back gives the same ids. Design notes:
// docs/tokenizer.md.
//
// A Tokenizer is immutable after construction; encode/decode are const and thread-safe.
// Bad input (invalid UTF-8, ids outside the vocabulary, malformed files, unsupported
// pre-tokenizers) raises llcuda::Error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace llcuda {

class GgufContents;
class GgufWriter;

// `tokenizer.ggml.token_type` values.
enum class TokenType : int32_t {
    Undefined = 0, Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6,
};

// The GGUF view of a vocabulary: exactly what `tokenizer.ggml.*` stores.
struct Vocabulary {
    std::string model;                 // "gpt2" (byte-level BPE) or "llama" (SentencePiece)
    std::string pre = "default";       // tokenizer.ggml.pre
    std::vector<std::string> tokens;   // byte-to-unicode form for gpt2, "▁" for spaces for llama
    std::vector<float> scores;         // llama: one per token (higher merges first); gpt2: empty
    std::vector<TokenType> token_types;
    std::vector<std::string> merges;   // gpt2: "left right", highest priority first; llama: empty
    int32_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1;  // -1: absent
    bool add_bos = false, add_eos = false;
    bool add_space_prefix = false;     // llama: "▁" prepended to every text segment
};

// Sets the `tokenizer.ggml.*` keys of `writer` from `vocab` (what a converter writes).
void add_vocabulary_to_gguf(const Vocabulary& vocab, GgufWriter& writer);

struct EncodeOptions {
    bool add_special = true;    // BOS/EOS as the tokenizer declares (HF add_special_tokens)
    bool parse_special = true;  // special-token strings in the text become their ids; when false
                                // they are encoded as plain text (HF encode_special_tokens=true).
                                // Non-special added tokens (user-defined) are always matched.
    bool replace_invalid_utf8 = false;  // false: invalid UTF-8 throws; true: each maximal invalid
                                        // subsequence becomes U+FFFD first (Python's "replace")
};

struct DecodeOptions {
    bool skip_special = false;  // drop special (control) tokens, like HF skip_special_tokens
};

namespace tokenizer_detail { struct Impl; }

class Tokenizer {
public:
    static Tokenizer from_gguf(const GgufContents& contents);
    static Tokenizer from_gguf_file(const std::filesystem::path& path);
    static Tokenizer from_vocabulary(const Vocabulary& vocab);
    static Tokenizer from_hf_json(std::string_view json_text);
    // Also reads bos/eos/pad names from a tokenizer_config.json beside the file, when there is one.
    static Tokenizer from_hf_json_file(const std::filesystem::path& path);

    Tokenizer(Tokenizer&&) noexcept;
    Tokenizer& operator=(Tokenizer&&) noexcept;
    ~Tokenizer();

    std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options = {}) const;
    std::string decode(std::span<const int32_t> ids, const DecodeOptions& options = {}) const;

    // The GGUF view; throws Unsupported when the tokenizer has no GGUF equivalent (for example a
    // tokenizer.json pre-tokenizer regex that no `tokenizer.ggml.pre` name stands for).
    Vocabulary vocabulary() const;

    size_t n_vocab() const;
    const std::string& token_text(int32_t id) const;  // as stored (byte-to-unicode form, "▁")
    TokenType token_type(int32_t id) const;
    bool is_special(int32_t id) const;  // control tokens: skipped by skip_special
    int32_t bos_id() const;             // -1 when absent
    int32_t eos_id() const;
    int32_t pad_id() const;
    int32_t token_id(std::string_view text) const;  // -1 when the text is not one token

    const tokenizer_detail::Impl& impl() const { return *impl_; }

private:
    explicit Tokenizer(std::unique_ptr<tokenizer_detail::Impl> impl);
    std::unique_ptr<tokenizer_detail::Impl> impl_;
};

// Incremental decoding for generation: push ids one at a time and get the text they complete.
// Never returns a broken UTF-8 sequence: bytes of a character that is not complete yet (and byte
// fallback runs that may still turn out invalid) are held back until the next ids or finish().
// The concatenation of all returned pieces equals Tokenizer::decode of all ids.
class StreamDecoder {
public:
    explicit StreamDecoder(const Tokenizer& tokenizer, DecodeOptions options = {});
    std::string push(int32_t id);
    std::string finish();  // flushes what is held back (invalid bytes become U+FFFD)

private:
    std::string take_complete(bool final);
    void resolve_byte_run();
    bool has_byte_fallback() const;
    const Tokenizer* tokenizer_;
    DecodeOptions options_;
    std::string pending_;        // decoded bytes not returned yet
    std::string byte_run_;       // SentencePiece byte-fallback run not yet resolved
    size_t n_run_tokens_ = 0;
    size_t strip_left_ = 0;      // leading spaces still to strip (SentencePiece Strip decoder)
    bool byte_level_ = false;    // GPT-2 byte-level decoder (else the SentencePiece chain)
};

// Offset of the first byte of `text` that does not start or continue valid UTF-8 (the tokenizer's
// strict rules: overlong forms, surrogates, code points above U+10FFFF and a sequence cut short
// are invalid), or nullopt when all of it is valid. For reporting bad input before it is encoded.
std::optional<size_t> first_invalid_utf8(std::string_view text);

}  // namespace llcuda
