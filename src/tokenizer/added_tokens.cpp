#include "tokenizer/added_tokens.h"

#include <algorithm>

namespace llcuda::tokenizer_detail {

int32_t AddedTokenMatcher::child(int32_t node, unsigned char c) const {
    const auto& ch = nodes_[node].children;
    const auto it = std::lower_bound(ch.begin(), ch.end(), c, [](const auto& p, unsigned char v) { return p.first < v; });
    return it != ch.end() && it->first == c ? it->second : -1;
}

void AddedTokenMatcher::build(const std::vector<AddedToken>& tokens) {
    nodes_.assign(1, Node{});
    std::fill(std::begin(first_byte_), std::end(first_byte_), false);
    for (const auto& t : tokens) {
        if (t.content.empty()) continue;
        int32_t node = 0;
        for (unsigned char c : t.content) {
            int32_t next = child(node, c);
            if (next < 0) {
                next = static_cast<int32_t>(nodes_.size());
                nodes_.push_back(Node{});
                auto& ch = nodes_[node].children;
                ch.insert(std::upper_bound(ch.begin(), ch.end(), c, [](unsigned char v, const auto& p) { return v < p.first; }),
                          {c, next});
            }
            node = next;
        }
        // The same content twice: the first definition wins (HF keeps the first id too).
        if (nodes_[node].token < 0) {
            nodes_[node].token = t.id;
            nodes_[node].special = t.special;
        }
        first_byte_[static_cast<unsigned char>(t.content[0])] = true;
    }
}

std::vector<Segment> AddedTokenMatcher::split(std::string_view text, bool parse_special) const {
    std::vector<Segment> out;
    size_t text_start = 0;
    size_t i = 0;
    while (i < text.size()) {
        if (!first_byte_[static_cast<unsigned char>(text[i])]) { ++i; continue; }
        int32_t node = 0, best_token = -1;
        size_t best_len = 0;
        for (size_t k = i; k < text.size(); ++k) {
            node = child(node, static_cast<unsigned char>(text[k]));
            if (node < 0) break;
            const Node& n = nodes_[node];
            if (n.token >= 0 && (parse_special || !n.special)) { best_token = n.token; best_len = k + 1 - i; }
        }
        if (best_token < 0) { ++i; continue; }
        if (i > text_start) out.push_back({-1, text.substr(text_start, i - text_start)});
        out.push_back({best_token, text.substr(i, best_len)});
        i += best_len;
        text_start = i;
    }
    if (text_start < text.size()) out.push_back({-1, text.substr(text_start)});
    return out;
}

}  // namespace llcuda::tokenizer_detail
