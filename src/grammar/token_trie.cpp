// vocabulary_from_bytes: the token bytes, end ids and byte trie of a TokenVocabulary, with no
// tokenizer behind it (build_token_vocabulary gets the bytes from one; the grammar fuzzer makes
// small vocabularies directly).
#include <algorithm>

#include <fmt/format.h>

#include "grammar/token_vocabulary.h"
#include "llcuda/error.h"

namespace llcuda::grammar {

bool TokenVocabulary::is_end(int32_t id) const { return std::binary_search(end_ids.begin(), end_ids.end(), id); }

std::shared_ptr<TokenVocabulary> vocabulary_from_bytes(std::vector<std::string> bytes, std::vector<int32_t> end_ids) {
    auto v = std::make_shared<TokenVocabulary>();
    v->n_rows = uint32_t(bytes.size());
    v->bytes = std::move(bytes);
    for (uint32_t id = 0; id < v->n_rows; ++id) {
        if (v->bytes[id].size() > 65535) {
            throw Error(ErrorKind::InvalidArgument, fmt::format("token {} is longer than 65535 bytes", id));
        }
    }
    for (int32_t e : end_ids) {
        if (e < 0 || uint32_t(e) >= v->n_rows) {
            throw Error(ErrorKind::InvalidArgument, fmt::format("end-of-generation id {} is outside the vocabulary", e));
        }
        v->bytes[size_t(e)].clear();  // ends the text; never part of it
    }
    std::sort(end_ids.begin(), end_ids.end());
    end_ids.erase(std::unique(end_ids.begin(), end_ids.end()), end_ids.end());
    v->end_ids = std::move(end_ids);

    // Preorder trie from the tokens sorted by bytes: each token shares its longest common prefix
    // with the one before; nodes deeper than that are closed, the rest of its bytes opened.
    std::vector<int32_t> ids;
    for (uint32_t id = 0; id < v->n_rows; ++id) {
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

}  // namespace llcuda::grammar
