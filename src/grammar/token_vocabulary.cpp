#include "grammar/token_vocabulary.h"

#include <algorithm>

#include "tokenizer/byte_level.h"
#include "tokenizer/impl.h"

namespace llcuda::grammar {

using tokenizer_detail::DecoderStep;

std::string token_bytes(const Tokenizer& tokenizer, int32_t id) {
    const auto& im = tokenizer.impl();
    im.check_id(id, "token");
    const TokenType type = im.types.empty() ? TokenType::Normal : im.types[size_t(id)];
    if (im.special[size_t(id)] || type == TokenType::Control || type == TokenType::Unknown || type == TokenType::Unused) {
        return {};
    }
    const std::string& text = im.tokens[size_t(id)];
    std::string out;
    if (im.decoder.byte_level()) {
        if (!tokenizer_detail::ByteLevelMap::get().decode(text, out)) out = text;
        return out;
    }
    bool byte_fallback = false;
    for (const auto& s : im.decoder.steps()) byte_fallback = byte_fallback || s.kind == DecoderStep::Kind::ByteFallback;
    if (const int b = tokenizer_detail::byte_token_value(text); b >= 0 && byte_fallback) return std::string(1, char(b));
    out = text;
    for (const auto& s : im.decoder.steps()) {
        if (s.kind != DecoderStep::Kind::Replace && s.kind != DecoderStep::Kind::Metaspace) continue;
        const std::string& from = s.kind == DecoderStep::Kind::Replace ? s.a : std::string("\xE2\x96\x81");
        const std::string& to = s.kind == DecoderStep::Kind::Replace ? s.b : std::string(" ");
        if (from.empty()) continue;
        std::string r;
        size_t pos = 0;
        for (size_t hit; (hit = out.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
            r.append(out, pos, hit - pos);
            r += to;
        }
        r.append(out, pos, std::string::npos);
        out = std::move(r);
    }
    return out;
}

std::shared_ptr<const TokenVocabulary> build_token_vocabulary(const Tokenizer& tokenizer, uint32_t n_rows,
                                                              std::vector<int32_t> end_ids) {
    std::vector<std::string> bytes(n_rows);
    const uint32_t n_tok = uint32_t(std::min<size_t>(n_rows, tokenizer.n_vocab()));
    for (uint32_t id = 0; id < n_tok; ++id) bytes[id] = token_bytes(tokenizer, int32_t(id));
    auto v = vocabulary_from_bytes(std::move(bytes), std::move(end_ids));
    for (const auto& s : tokenizer.impl().decoder.steps()) {
        if (s.kind == DecoderStep::Kind::Strip && s.a == " ") v->strip_leading_spaces = s.start;
    }
    return v;
}

std::shared_ptr<const TokenVocabulary> LazyTokenVocabulary::get(const Tokenizer& tokenizer, uint32_t n_rows,
                                                                const std::unordered_set<int32_t>& end_ids) const {
    std::call_once(once_, [&] { vocab_ = build_token_vocabulary(tokenizer, n_rows, {end_ids.begin(), end_ids.end()}); });
    return vocab_;
}

}  // namespace llcuda::grammar
