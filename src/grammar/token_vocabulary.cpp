#include "grammar/token_vocabulary.h"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "llcuda/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/impl.h"

namespace llcuda::grammar {

using tokenizer_detail::DecoderStep;

bool TokenVocabulary::is_end(int32_t id) const { return std::binary_search(end_ids.begin(), end_ids.end(), id); }

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
    auto v = std::make_shared<TokenVocabulary>();
    v->n_rows = n_rows;
    v->bytes.resize(n_rows);
    const uint32_t n_tok = uint32_t(std::min<size_t>(n_rows, tokenizer.n_vocab()));
    for (uint32_t id = 0; id < n_tok; ++id) {
        v->bytes[id] = token_bytes(tokenizer, int32_t(id));
        if (v->bytes[id].size() > 65535) {
            throw Error(ErrorKind::InvalidArgument, fmt::format("token {} is longer than 65535 bytes", id));
        }
    }
    for (int32_t e : end_ids) {
        if (e < 0 || uint32_t(e) >= n_rows) {
            throw Error(ErrorKind::InvalidArgument, fmt::format("end-of-generation id {} is outside the vocabulary", e));
        }
        v->bytes[size_t(e)].clear();  // ends the text; never part of it
    }
    std::sort(end_ids.begin(), end_ids.end());
    end_ids.erase(std::unique(end_ids.begin(), end_ids.end()), end_ids.end());
    v->end_ids = std::move(end_ids);
    for (const auto& s : tokenizer.impl().decoder.steps()) {
        if (s.kind == DecoderStep::Kind::Strip && s.a == " ") v->strip_leading_spaces = s.start;
    }

    // Preorder trie from the tokens sorted by bytes: each token shares its longest common prefix
    // with the one before; nodes deeper than that are closed, the rest of its bytes opened.
    std::vector<int32_t> ids;
    for (uint32_t id = 0; id < n_rows; ++id) {
        if (!v->bytes[id].empty()) ids.push_back(int32_t(id));
    }
    std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) {
        const int c = v->bytes[size_t(a)].compare(v->bytes[size_t(b)]);
        return c < 0 || (c == 0 && a < b);
    });
    std::vector<uint32_t> path;  // node at each depth of the current token
    const std::string* prev = nullptr;
    for (int32_t id : ids) {
        const std::string& s = v->bytes[size_t(id)];
        size_t lcp = 0;
        if (prev) {
            while (lcp < prev->size() && lcp < s.size() && (*prev)[lcp] == s[lcp]) ++lcp;
        }
        while (path.size() > lcp) {
            v->node_end[path.back()] = uint32_t(v->node_byte.size());
            path.pop_back();
        }
        for (size_t d = lcp; d < s.size(); ++d) {
            path.push_back(uint32_t(v->node_byte.size()));
            v->node_byte.push_back(uint8_t(s[d]));
            v->node_depth.push_back(uint16_t(d + 1));
            v->node_end.push_back(0);
            v->tok_begin.push_back(uint32_t(v->order.size()));
        }
        v->order.push_back(id);
        v->max_depth = std::max<uint16_t>(v->max_depth, uint16_t(s.size()));
        prev = &s;
    }
    while (!path.empty()) {
        v->node_end[path.back()] = uint32_t(v->node_byte.size());
        path.pop_back();
    }
    v->tok_begin.push_back(uint32_t(v->order.size()));
    return v;
}

std::shared_ptr<const TokenVocabulary> LazyTokenVocabulary::get(const Tokenizer& tokenizer, uint32_t n_rows,
                                                                const std::unordered_set<int32_t>& end_ids) const {
    std::call_once(once_, [&] { vocab_ = build_token_vocabulary(tokenizer, n_rows, {end_ids.begin(), end_ids.end()}); });
    return vocab_;
}

}  // namespace llcuda::grammar
