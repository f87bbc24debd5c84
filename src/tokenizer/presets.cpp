// `tokenizer.ggml.pre` names -> the pre-tokenizer of the HF tokenizer that name stands for.
// llama.cpp's converter picks the name by hashing the tokenizer's output on a test string; here
// each name maps to the pre-tokenizer (and normalizer) in that family's tokenizer.json, so a
// tokenizer read from GGUF behaves like the HF original. A table, not a switch forest.
#include <array>

#include "llcuda/error.h"
#include "tokenizer/impl.h"

namespace llcuda::tokenizer_detail {

namespace {

using Kind = PreTokenizerStep::Kind;

constexpr std::string_view kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// DeepSeek families: a sequence of isolated splits before the byte-level map, as in their
// tokenizer.json files (patterns as llama.cpp lists them for the same `tokenizer.ggml.pre` names).
constexpr std::string_view kDeepseekLlmLetters =
    "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\u1F7Dᾀ-ᾴᾶ-ᾼ\u1FBEῂ-ῄῆ-ῌῐ-\u1FD3ῖ-\u1FDBῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212A-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ\U00010400-\U0001044f𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+";
constexpr std::string_view kDeepseekLlmPunct = "\\s?[!-/:-~！-／：-～‘-‟　-。]+";
constexpr std::string_view kDeepseekCjk = "[一-龥ࠀ-一가-퟿]+";
constexpr std::string_view kDeepseekV3Main =
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+";

PreTokenizerStep split(std::string_view re) {
    PreTokenizerStep s;
    s.kind = Kind::Split;
    s.regex = re;
    return s;
}
PreTokenizerStep byte_level(bool use_regex) {
    PreTokenizerStep s;
    s.kind = Kind::ByteLevel;
    s.use_regex = use_regex;
    return s;
}
PreTokenizerStep digits() {
    PreTokenizerStep s;
    s.kind = Kind::Digits;
    s.individual_digits = true;
    return s;
}

struct Entry {
    std::string_view name;
    PrePreset (*make)();
};

PrePreset gpt2() { return {{byte_level(true)}, false, false}; }
PrePreset llama3() { return {{split(kLlama3Regex), byte_level(false)}, false, true}; }
PrePreset qwen2() { return {{split(kQwen2Regex), byte_level(false)}, true, false}; }
PrePreset smollm() { return {{digits(), byte_level(true)}, false, false}; }
PrePreset deepseek_llm() {
    return {{split("[\\r\\n]"), split(kDeepseekLlmLetters), split(kDeepseekLlmPunct), split("\\s+$"), split(kDeepseekCjk),
             split("\\p{N}+"), byte_level(false)}, false, false};
}
PrePreset deepseek_coder() {
    return {{split("[\\r\\n]"), split("\\s?\\p{L}+"), split("\\s?\\p{P}+"), split(kDeepseekCjk), split("\\p{N}"),
             byte_level(false)}, false, false};
}
PrePreset deepseek_v3() {
    return {{split("\\p{N}{1,3}"), split("[一-龥぀-ゟ゠-ヿ]+"), split(kDeepseekV3Main), byte_level(false)}, false, false};
}

// First name of each family is the canonical one written on export.
constexpr std::array<Entry, 12> kPresets{{
    {"gpt2", gpt2}, {"gpt-2", gpt2},
    {"llama-bpe", llama3}, {"llama3", llama3}, {"llama-v3", llama3},
    {"qwen2", qwen2},
    {"smollm", smollm}, {"starcoder", smollm}, {"refact", smollm},
    {"deepseek-llm", deepseek_llm}, {"deepseek-coder", deepseek_coder}, {"deepseek-v3", deepseek_v3},
}};

bool same_steps(const std::vector<PreTokenizerStep>& a, const std::vector<PreTokenizerStep>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].kind != b[i].kind) return false;
        if (a[i].kind == Kind::Split && a[i].regex != b[i].regex) return false;
        if (a[i].kind == Kind::Digits && a[i].individual_digits != b[i].individual_digits) return false;
        if (a[i].kind == Kind::ByteLevel &&
            (a[i].use_regex != b[i].use_regex || a[i].add_prefix_space != b[i].add_prefix_space))
            return false;
    }
    return true;
}

}  // namespace

PrePreset pre_preset(const std::string& name) {
    for (const auto& e : kPresets)
        if (e.name == name) return e.make();
    std::string known;
    for (const auto& e : kPresets) known += (known.empty() ? "" : ", ") + std::string(e.name);
    throw Error(ErrorKind::Unsupported,
                "tokenizer: unknown BPE pre-tokenizer tokenizer.ggml.pre=\"" + name + "\" (supported: " + known + ")");
}

std::string pre_preset_name(const PreTokenizer& pre, const Normalizer& normalizer, bool ignore_merges) {
    // Only NFC may be declared besides the pre-tokenizer: it is the one normalizer a preset implies.
    for (const auto& s : normalizer.steps())
        if (s.kind != NormalizerStep::Kind::Nfc) return "";
    const bool nfc = normalizer.has(NormalizerStep::Kind::Nfc);
    for (const auto& e : kPresets) {
        const PrePreset p = e.make();
        if (same_steps(p.steps, pre.steps()) && p.nfc == nfc && p.ignore_merges == ignore_merges)
            return std::string(e.name);
    }
    return "";
}

}  // namespace llcuda::tokenizer_detail
