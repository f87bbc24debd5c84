// Reading a Hugging Face tokenizer.json into the internal description. Every component type the
// file may name is either mapped to ours or rejected with Unsupported naming it: a tokenizer that
// silently ignores a normalizer step would produce wrong ids without anyone noticing.
#include <nlohmann/json.hpp>

#include "llcuda/error.h"
#include "tokenizer/impl.h"

namespace llcuda::tokenizer_detail {

namespace {

using json = nlohmann::json;

[[noreturn]] void unsupported(const std::string& what) {
    throw Error(ErrorKind::Unsupported, "tokenizer.json: " + what + " is not supported");
}

[[noreturn]] void malformed(const std::string& what) {
    throw Error(ErrorKind::FormatError, "tokenizer.json: " + what);
}

const json& field(const json& obj, const char* key, const std::string& where) {
    if (!obj.is_object() || !obj.contains(key)) malformed(where + " has no \"" + key + "\"");
    return obj.at(key);
}

std::string type_of(const json& j, const std::string& where) {
    const json& t = field(j, "type", where);
    if (!t.is_string()) malformed(where + ".type is not a string");
    return t.get<std::string>();
}

// Literal text of a Replace/Split pattern given as {"String": ...}; Regex patterns are rejected
// for Replace (no GGUF equivalent, not used by the supported families).
std::string string_pattern(const json& j, const std::string& where) {
    const json& p = field(j, "pattern", where);
    if (p.contains("String")) return p.at("String").get<std::string>();
    unsupported(where + " with a Regex pattern");
}

std::string quote_regex(const std::string& s) {
    std::string out = "\\Q";
    for (size_t i = 0; i < s.size(); ++i) {
        if (s.compare(i, 2, "\\E") == 0) { out += "\\E\\\\E\\Q"; ++i; continue; }
        out += s[i];
    }
    return out + "\\E";
}

void add_normalizer(const json& j, Normalizer& n) {
    if (j.is_null()) return;
    const std::string t = type_of(j, "normalizer");
    if (t == "Sequence") {
        for (const auto& s : field(j, "normalizers", "normalizer")) add_normalizer(s, n);
    } else if (t == "NFC") {
        n.add({NormalizerStep::Kind::Nfc, "", ""});
    } else if (t == "NFD") {
        n.add({NormalizerStep::Kind::Nfd, "", ""});
    } else if (t == "NFKC") {
        n.add({NormalizerStep::Kind::Nfkc, "", ""});
    } else if (t == "NFKD") {
        n.add({NormalizerStep::Kind::Nfkd, "", ""});
    } else if (t == "Prepend") {
        n.add({NormalizerStep::Kind::Prepend, field(j, "prepend", "Prepend").get<std::string>(), ""});
    } else if (t == "Replace") {
        n.add({NormalizerStep::Kind::Replace, string_pattern(j, "Replace normalizer"),
               field(j, "content", "Replace").get<std::string>()});
    } else {
        unsupported("normalizer \"" + t + "\"");
    }
}

// Metaspace's prepend scheme; files older than tokenizers 0.19 have add_prefix_space instead.
PreTokenizerStep::Prepend prepend_scheme(const json& j) {
    if (j.contains("prepend_scheme")) {
        const auto v = j.at("prepend_scheme").get<std::string>();
        if (v == "always") return PreTokenizerStep::Prepend::Always;
        if (v == "first") return PreTokenizerStep::Prepend::First;
        if (v == "never") return PreTokenizerStep::Prepend::Never;
        malformed("Metaspace prepend_scheme \"" + v + "\"");
    }
    return j.value("add_prefix_space", true) ? PreTokenizerStep::Prepend::Always : PreTokenizerStep::Prepend::Never;
}

void add_pre_tokenizer(const json& j, std::vector<PreTokenizerStep>& steps) {
    if (j.is_null()) return;
    const std::string t = type_of(j, "pre_tokenizer");
    if (t == "Sequence") {
        for (const auto& s : field(j, "pretokenizers", "pre_tokenizer")) add_pre_tokenizer(s, steps);
    } else if (t == "Split") {
        if (j.value("behavior", "") != "Isolated") unsupported("Split behavior \"" + j.value("behavior", "") + "\"");
        if (j.value("invert", false)) unsupported("Split with invert");
        const json& p = field(j, "pattern", "Split");
        PreTokenizerStep s;
        s.kind = PreTokenizerStep::Kind::Split;
        if (p.contains("Regex")) s.regex = p.at("Regex").get<std::string>();
        else if (p.contains("String")) s.regex = quote_regex(p.at("String").get<std::string>());
        else malformed("Split pattern is neither Regex nor String");
        steps.push_back(s);
    } else if (t == "ByteLevel") {
        PreTokenizerStep s;
        s.kind = PreTokenizerStep::Kind::ByteLevel;
        s.add_prefix_space = j.value("add_prefix_space", false);
        s.use_regex = j.value("use_regex", true);
        steps.push_back(s);
    } else if (t == "Metaspace") {
        PreTokenizerStep s;
        s.kind = PreTokenizerStep::Kind::Metaspace;
        s.replacement = j.value("replacement", std::string("\xE2\x96\x81"));
        s.split = j.value("split", true);
        s.prepend = prepend_scheme(j);
        steps.push_back(s);
    } else if (t == "Digits") {
        PreTokenizerStep s;
        s.kind = PreTokenizerStep::Kind::Digits;
        s.individual_digits = j.value("individual_digits", false);
        steps.push_back(s);
    } else {
        unsupported("pre_tokenizer \"" + t + "\"");
    }
}

void add_decoder(const json& j, Decoder& d) {
    if (j.is_null()) return;
    const std::string t = type_of(j, "decoder");
    if (t == "Sequence") {
        for (const auto& s : field(j, "decoders", "decoder")) add_decoder(s, d);
    } else if (t == "ByteLevel") {
        d.add({DecoderStep::Kind::ByteLevel, "", "", 0, 0});
    } else if (t == "Replace") {
        d.add({DecoderStep::Kind::Replace, string_pattern(j, "Replace decoder"),
               field(j, "content", "Replace").get<std::string>(), 0, 0});
    } else if (t == "ByteFallback") {
        d.add({DecoderStep::Kind::ByteFallback, "", "", 0, 0});
    } else if (t == "Metaspace") {
        const bool drop_first = prepend_scheme(j) != PreTokenizerStep::Prepend::Never;
        d.add({DecoderStep::Kind::Metaspace, j.value("replacement", std::string("\xE2\x96\x81")), "", drop_first ? 1u : 0u, 0});
    } else if (t == "Fuse") {
        d.add({DecoderStep::Kind::Fuse, "", "", 0, 0});
    } else if (t == "Strip") {
        d.add({DecoderStep::Kind::Strip, field(j, "content", "Strip").get<std::string>(), "",
               j.value("start", size_t{0}), j.value("stop", size_t{0})});
    } else {
        unsupported("decoder \"" + t + "\"");
    }
}

// Post-processor: only the ids put around a single sequence matter for encode().
void add_post_processor(const json& j, Impl& im) {
    if (j.is_null()) return;
    const std::string t = type_of(j, "post_processor");
    if (t == "Sequence") {
        for (const auto& s : field(j, "processors", "post_processor")) add_post_processor(s, im);
    } else if (t == "ByteLevel") {
        // Only adjusts offsets; ids are unchanged.
    } else if (t == "TemplateProcessing") {
        const json& specials = field(j, "special_tokens", "TemplateProcessing");
        bool after = false;
        for (const auto& item : field(j, "single", "TemplateProcessing")) {
            if (item.contains("Sequence")) { after = true; continue; }
            if (!item.contains("SpecialToken")) malformed("TemplateProcessing item is neither Sequence nor SpecialToken");
            const std::string name = item.at("SpecialToken").at("id").get<std::string>();
            if (!specials.contains(name)) malformed("TemplateProcessing names unknown special token \"" + name + "\"");
            for (const auto& id : specials.at(name).at("ids"))
                (after ? im.suffix_ids : im.prefix_ids).push_back(id.get<int32_t>());
        }
    } else {
        unsupported("post_processor \"" + t + "\"");
    }
}

void load_model(const json& m, Impl& im) {
    const std::string t = type_of(m, "model");
    if (t != "BPE") unsupported("model \"" + t + "\" (only BPE)");
    if (!m.value("dropout", json()).is_null() && m.at("dropout").get<double>() != 0.0) unsupported("BPE dropout");
    for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"})
        if (m.contains(k) && !m.at(k).is_null() && !m.at(k).get<std::string>().empty()) unsupported(std::string("BPE ") + k);

    const json& vocab = field(m, "vocab", "model");
    if (!vocab.is_object()) malformed("model.vocab is not an object");
    for (const auto& [text, id_json] : vocab.items()) {
        if (!id_json.is_number_integer()) malformed("vocab entry \"" + text + "\" has a non-integer id");
        const int64_t id = id_json.get<int64_t>();
        if (id < 0 || id >= (int64_t(1) << 24)) malformed("vocab id " + std::to_string(id) + " out of range");
        if (static_cast<size_t>(id) >= im.tokens.size()) im.tokens.resize(id + 1), im.types.resize(id + 1, TokenType::Undefined);
        if (im.types[id] != TokenType::Undefined) malformed("vocab id " + std::to_string(id) + " used twice");
        im.tokens[id] = text;
        im.types[id] = TokenType::Normal;
    }
    for (const auto& mj : field(m, "merges", "model")) {
        if (mj.is_string()) {
            im.merge_strings.push_back(mj.get<std::string>());
        } else if (mj.is_array() && mj.size() == 2) {
            const auto l = mj[0].get<std::string>(), r = mj[1].get<std::string>();
            if (l.empty() || l.find(' ') != std::string::npos) unsupported("a merge part containing a space");
            im.merge_strings.push_back(l + " " + r);
        } else {
            malformed("merge is neither \"a b\" nor [a, b]");
        }
    }
    im.bpe.priority = BpeModel::Priority::Ranks;
    im.bpe.byte_fallback = m.value("byte_fallback", false);
    im.bpe.fuse_unk = m.value("fuse_unk", false);
    im.bpe.ignore_merges = m.value("ignore_merges", false);
    const json unk = m.value("unk_token", json());
    if (unk.is_string()) {
        const auto name = unk.get<std::string>();
        for (size_t i = 0; i < im.tokens.size(); ++i)
            if (im.types[i] != TokenType::Undefined && im.tokens[i] == name) im.bpe.unk_id = static_cast<int32_t>(i);
        if (im.bpe.unk_id < 0) malformed("unk_token \"" + name + "\" is not in the vocabulary");
        im.unk_id = im.bpe.unk_id;
    }
}

void load_added_tokens(const json& list, Impl& im) {
    for (const auto& a : list) {
        const int64_t id = field(a, "id", "added token").get<int64_t>();
        const std::string content = field(a, "content", "added token").get<std::string>();
        if (id < 0 || id >= (int64_t(1) << 24)) malformed("added token id " + std::to_string(id) + " out of range");
        for (const char* k : {"lstrip", "rstrip", "single_word"})
            if (a.value(k, false)) unsupported(std::string("added token option ") + k + " (\"" + content + "\")");
        const bool special = a.value("special", false);
        if (static_cast<size_t>(id) >= im.tokens.size()) im.tokens.resize(id + 1), im.types.resize(id + 1, TokenType::Undefined);
        if (im.types[id] != TokenType::Undefined && im.tokens[id] != content)
            malformed("added token " + std::to_string(id) + " \"" + content + "\" clashes with vocab token \"" + im.tokens[id] + "\"");
        im.tokens[id] = content;
        im.types[id] = special ? TokenType::Control : TokenType::UserDefined;
        im.added.push_back({static_cast<int32_t>(id), content, special});
    }
}

}  // namespace

std::unique_ptr<Impl> load_hf_json(std::string_view text) {
    json j;
    try {
        j = json::parse(text.begin(), text.end());
    } catch (const json::exception& e) {
        throw Error(ErrorKind::FormatError, std::string("tokenizer.json: not valid JSON: ") + e.what());
    }
    auto im = std::make_unique<Impl>();
    try {
        if (!j.is_object()) malformed("the top level is not an object");
        load_model(field(j, "model", "tokenizer.json"), *im);
        load_added_tokens(j.value("added_tokens", json::array()), *im);
        for (size_t i = 0; i < im->tokens.size(); ++i)
            if (im->types[i] == TokenType::Undefined) malformed("no token has id " + std::to_string(i) + " (ids must be contiguous)");
        // Types GGUF needs: <0xXX> pieces of a byte-fallback model are bytes, unk is unknown.
        if (im->bpe.byte_fallback)
            for (size_t i = 0; i < im->tokens.size(); ++i)
                if (im->types[i] == TokenType::Normal && byte_token_value(im->tokens[i]) >= 0) im->types[i] = TokenType::Byte;
        if (im->unk_id >= 0 && im->types[im->unk_id] == TokenType::Normal) im->types[im->unk_id] = TokenType::Unknown;

        add_normalizer(j.value("normalizer", json()), im->normalizer);
        std::vector<PreTokenizerStep> steps;
        add_pre_tokenizer(j.value("pre_tokenizer", json()), steps);
        im->pre = PreTokenizer(std::move(steps));
        add_decoder(j.value("decoder", json()), im->decoder);
        add_post_processor(j.value("post_processor", json()), *im);
    } catch (const json::exception& e) {
        throw Error(ErrorKind::FormatError, std::string("tokenizer.json: unexpected structure: ") + e.what());
    }
    if (!im->prefix_ids.empty()) im->bos_id = im->prefix_ids.front();
    if (!im->suffix_ids.empty()) im->eos_id = im->suffix_ids.front();
    im->finalize();
    return im;
}

void apply_tokenizer_config(Impl& im, std::string_view config_text) {
    json c;
    try {
        c = json::parse(config_text.begin(), config_text.end());
    } catch (const json::exception& e) {
        throw Error(ErrorKind::FormatError, std::string("tokenizer_config.json: not valid JSON: ") + e.what());
    }
    // A token is named by a string or by an AddedToken object {"content": ...}; null means none.
    auto id_of = [&](const char* key) -> int32_t {
        if (!c.is_object() || !c.contains(key) || c.at(key).is_null()) return -1;
        const json& v = c.at(key);
        const std::string name = v.is_string() ? v.get<std::string>() : v.value("content", std::string());
        // A name that is not one token (some configs name a string the vocabulary lacks) leaves
        // the id absent: tokenization does not depend on it, so it is no reason to refuse the file.
        const auto it = im.token_ids.find(std::string_view(name));
        return it == im.token_ids.end() ? -1 : it->second;
    };
    // The post-processor decides what encode() adds; the config only names the ids.
    if (im.prefix_ids.empty()) im.bos_id = id_of("bos_token");
    if (im.suffix_ids.empty()) im.eos_id = id_of("eos_token");
    im.pad_id = id_of("pad_token");
}

}  // namespace llcuda::tokenizer_detail
