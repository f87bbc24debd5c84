#include "tokenizer/bpe.h"

#include <cstdio>
#include <queue>

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
// changed since it was queued) are detected on pop by comparing ids and lengths.
struct Candidate {
    double key1;      // rank, or -score
    int64_t key2;     // 0, or (merged id << 32 | left id)
    int32_t left;
    int32_t merged;
    uint32_t left_len, right_len;
    bool operator<(const Candidate& o) const {  // std::priority_queue pops the largest
        if (key1 != o.key1) return key1 > o.key1;
        if (key2 != o.key2) return key2 > o.key2;
        return left > o.left;
    }
};

}  // namespace

void BpeModel::init_byte_ids() {
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        const auto it = token_ids->find(std::string_view(name));
        byte_ids[b] = it == token_ids->end() ? -1 : it->second;
    }
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out) const {
    if (word.empty()) return;
    if (ignore_merges) {
        const auto it = token_ids->find(word);
        if (it != token_ids->end()) { out.push_back(it->second); return; }
    }

    // Initial symbols: one per character; unknown characters fall back to bytes or unk.
    std::vector<Symbol> sym;
    sym.reserve(word.size());
    auto push = [&](int32_t id, size_t start, size_t len) {
        const auto n = static_cast<int32_t>(sym.size());
        sym.push_back({id, n - 1, n + 1, static_cast<uint32_t>(start), static_cast<uint32_t>(len)});
    };
    for (size_t i = 0; i < word.size();) {
        const size_t n = std::max<size_t>(1, std::min(utf8_seq_len(static_cast<unsigned char>(word[i])), word.size() - i));
        const auto it = token_ids->find(word.substr(i, n));
        if (it != token_ids->end()) {
            push(it->second, i, n);
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

    std::priority_queue<Candidate> queue;
    std::string concat;
    auto consider = [&](int32_t left) {
        if (left < 0) return;
        const int32_t right = sym[left].next;
        if (right < 0) return;
        const Symbol& a = sym[left];
        const Symbol& b = sym[right];
        if (priority == Priority::Ranks) {
            const auto it = merges.find((uint64_t(uint32_t(a.id)) << 32) | uint32_t(b.id));
            if (it == merges.end()) return;
            queue.push({double(it->second.rank), 0, left, it->second.id, a.len, b.len});
        } else {
            // Byte-fallback and unk symbols never merge: their text is not the word's text.
            const auto ta = (*types)[a.id], tb = (*types)[b.id];
            if (ta == TokenType::Byte || tb == TokenType::Byte || a.id == unk_id || b.id == unk_id) return;
            concat.assign(word.substr(a.start, a.len));
            concat.append(word.substr(b.start, b.len));
            const auto it = token_ids->find(std::string_view(concat));
            if (it == token_ids->end()) return;
            const TokenType t = (*types)[it->second];
            if (t != TokenType::Normal && t != TokenType::UserDefined && t != TokenType::Undefined) return;
            const int64_t key2 = (int64_t(it->second) << 32) | uint32_t(a.id);
            queue.push({-double((*scores)[it->second]), key2, left, it->second, a.len, b.len});
        }
    };
    for (int32_t i = 0; i + 1 < static_cast<int32_t>(sym.size()); ++i) consider(i);

    while (!queue.empty()) {
        const Candidate c = queue.top();
        queue.pop();
        Symbol& a = sym[c.left];
        if (a.len != c.left_len || a.next < 0) continue;
        Symbol& b = sym[a.next];
        if (b.len != c.right_len) continue;
        // Unchanged lengths mean neither side took part in another merge since it was queued
        // (every merge grows a symbol), so the candidate is still valid.
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

