#include "tokenizer/bpe.h"

#include <algorithm>
#include <cstdio>

#include "tokenizer/utf8.h"

namespace llcuda::tokenizer_detail {

namespace {

// One symbol of the word being merged: a token id over a byte range, in a doubly linked list so
// a merge is O(1). A merged-away symbol gets len 0.
struct Symbol {
    int32_t id;
    int32_t prev, next;
    uint32_t start, len;
};

// A candidate merge of the symbols at `left` and its right neighbour. Stale candidates (one side
// took part in another merge since) are detected on pop: every merge grows a symbol, so unchanged
// lengths mean unchanged symbols.
struct Candidate {
    int32_t rank;
    int32_t left;
    int32_t merged;
    uint32_t left_len, right_len;
    bool operator<(const Candidate& o) const {  // the heap top is the largest: lowest rank, leftmost
        return rank != o.rank ? rank > o.rank : left > o.left;
    }
};

bool mergeable_result(TokenType t) {
    return t == TokenType::Normal || t == TokenType::UserDefined || t == TokenType::Undefined;
}

}  // namespace

void BpeModel::init_lookup_tables() {
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        const auto it = token_ids->find(std::string_view(name));
        byte_ids[b] = it == token_ids->end() ? -1 : it->second;
    }
    small_cp_ids.assign(512, -1);
    for (uint32_t cp = 0; cp < 512; ++cp) {
        std::string s;
        utf8_append(s, cp);
        const auto it = token_ids->find(std::string_view(s));
        if (it != token_ids->end()) small_cp_ids[cp] = it->second;
    }
}

void BpeModel::build_score_merges() {
    struct Pair { float score; int32_t merged, left, right; };
    std::vector<Pair> pairs;
    const auto& toks = *tokens;
    for (size_t id = 0; id < toks.size(); ++id) {
        if (!mergeable_result((*types)[id])) continue;
        const std::string& piece = toks[id];
        for (size_t k = 1; k < piece.size(); ++k) {
            if ((static_cast<unsigned char>(piece[k]) & 0xC0) == 0x80) continue;  // split at characters only
            const auto l = token_ids->find(std::string_view(piece).substr(0, k));
            if (l == token_ids->end()) continue;
            const auto r = token_ids->find(std::string_view(piece).substr(k));
            if (r == token_ids->end()) continue;
            // Byte-fallback and unk symbols never merge: their text is not the word's text.
            const auto tl = (*types)[l->second], tr = (*types)[r->second];
            if (tl == TokenType::Byte || tr == TokenType::Byte || l->second == unk_id || r->second == unk_id) continue;
            pairs.push_back({(*scores)[id], static_cast<int32_t>(id), l->second, r->second});
        }
    }
    std::sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) {
        if (a.score != b.score) return a.score > b.score;
        if (a.merged != b.merged) return a.merged < b.merged;
        return a.left < b.left;
    });
    merges.clear();
    for (size_t rank = 0; rank < pairs.size(); ++rank)
        merges.insert(pairs[rank].left, pairs[rank].right, static_cast<int32_t>(rank), pairs[rank].merged);
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out) const {
    if (word.empty()) return;
    if (ignore_merges) {
        const auto it = token_ids->find(word);
        if (it != token_ids->end()) { out.push_back(it->second); return; }
    }

    // Initial symbols: one per character; unknown characters fall back to bytes or unk.
    thread_local std::vector<Symbol> sym;
    sym.clear();
    auto push = [&](int32_t id, size_t start, size_t len) {
        const auto n = static_cast<int32_t>(sym.size());
        sym.push_back({id, n - 1, n + 1, static_cast<uint32_t>(start), static_cast<uint32_t>(len)});
    };
    for (size_t i = 0; i < word.size();) {
        const size_t n = std::max<size_t>(1, std::min(utf8_seq_len(static_cast<unsigned char>(word[i])), word.size() - i));
        int32_t id = -1;
        if (n <= 2) {
            size_t j = i;
            const uint32_t cp = utf8_decode(word, j);
            if (cp < small_cp_ids.size()) id = small_cp_ids[cp];
            else if (const auto it = token_ids->find(word.substr(i, n)); it != token_ids->end()) id = it->second;
        } else if (const auto it = token_ids->find(word.substr(i, n)); it != token_ids->end()) {
            id = it->second;
        }
        if (id >= 0) {
            push(id, i, n);
        } else {
            bool all_bytes = byte_fallback;
            for (size_t k = 0; all_bytes && k < n; ++k) all_bytes = byte_ids[static_cast<unsigned char>(word[i + k])] >= 0;
            if (all_bytes) {
                for (size_t k = 0; k < n; ++k) push(byte_ids[static_cast<unsigned char>(word[i + k])], i + k, 1);
            } else if (unk_id >= 0) {
                if (fuse_unk && !sym.empty() && sym.back().id == unk_id) sym.back().len += static_cast<uint32_t>(n);
                else push(unk_id, i, n);
            }
        }
        i += n;
    }
    if (sym.empty()) return;
    sym.back().next = -1;

    // A binary heap in a reused buffer (std::priority_queue cannot reuse its storage).
    thread_local std::vector<Candidate> queue;
    queue.clear();
    auto consider = [&](int32_t left) {
        if (left < 0) return;
        const int32_t right = sym[left].next;
        if (right < 0) return;
        const PairTable::Entry* m = merges.find(sym[left].id, sym[right].id);
        if (m == nullptr) return;
        queue.push_back({m->rank, left, m->id, sym[left].len, sym[right].len});
        std::push_heap(queue.begin(), queue.end());
    };
    for (int32_t i = 0; i + 1 < static_cast<int32_t>(sym.size()); ++i) consider(i);

    while (!queue.empty()) {
        std::pop_heap(queue.begin(), queue.end());
        const Candidate c = queue.back();
        queue.pop_back();
        Symbol& a = sym[c.left];
        if (a.len != c.left_len || a.next < 0) continue;
        Symbol& b = sym[a.next];
        if (b.len != c.right_len) continue;
        a.id = c.merged;
        a.len += b.len;
        b.len = 0;
        a.next = b.next;
        if (b.next >= 0) sym[b.next].prev = c.left;
        consider(a.prev);
        consider(c.left);
    }
    for (int32_t i = 0; i >= 0; i = sym[i].next) out.push_back(sym[i].id);
}

}  // namespace llcuda::tokenizer_detail
