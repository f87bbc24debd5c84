// The merge table: (left id, right id) -> (rank, merged id), as a flat open-addressing hash table.
// BPE spends most of its time asking "is this adjacent pair a merge?"; a node-based
// std::unordered_map made that a cache miss and a division per question (half the encode time).
#pragma once

#include <cstdint>
#include <vector>

namespace llcuda::tokenizer_detail {

class PairTable {
public:
    struct Entry {
        uint64_t key = kEmpty;
        int32_t rank = 0;
        int32_t id = 0;
    };

    void clear() { slots_.clear(); size_ = 0; mask_ = 0; shift_ = 64; }
    size_t size() const { return size_; }

    // Keeps the first insertion of a pair (HF keeps the first occurrence of a duplicate merge).
    void insert(int32_t left, int32_t right, int32_t rank, int32_t id) {
        if ((size_ + 1) * 2 > slots_.size()) grow();
        const uint64_t key = make_key(left, right);
        for (uint64_t i = slot_of(key);; i = (i + 1) & mask_) {
            if (slots_[i].key == key) return;
            if (slots_[i].key == kEmpty) {
                slots_[i] = {key, rank, id};
                ++size_;
                return;
            }
        }
    }

    const Entry* find(int32_t left, int32_t right) const {
        if (slots_.empty()) return nullptr;
        const uint64_t key = make_key(left, right);
        for (uint64_t i = slot_of(key);; i = (i + 1) & mask_) {
            if (slots_[i].key == key) return &slots_[i];
            if (slots_[i].key == kEmpty) return nullptr;
        }
    }

    template <typename F> void for_each(F&& f) const {
        for (const auto& e : slots_)
            if (e.key != kEmpty) f(int32_t(e.key >> 32), int32_t(uint32_t(e.key)), e.rank, e.id);
    }

private:
    static constexpr uint64_t kEmpty = ~uint64_t{0};  // ids are < 2^31, so no real key is all ones
    static uint64_t make_key(int32_t l, int32_t r) { return (uint64_t(uint32_t(l)) << 32) | uint32_t(r); }
    // Fibonacci hashing: the top bits of key * 2^64/phi spread consecutive ids over the table.
    uint64_t slot_of(uint64_t key) const { return (key * 0x9E3779B97F4A7C15ull) >> shift_; }

    void grow() {
        std::vector<Entry> old;
        old.swap(slots_);
        const size_t n = old.empty() ? 1024 : old.size() * 2;
        slots_.assign(n, Entry{});
        mask_ = n - 1;
        shift_ = 64;
        for (size_t k = n; k > 1; k >>= 1) --shift_;
        size_ = 0;
        for (const auto& e : old)
            if (e.key != kEmpty) insert(int32_t(e.key >> 32), int32_t(uint32_t(e.key)), e.rank, e.id);
    }

    std::vector<Entry> slots_;
    uint64_t mask_ = 0;
    unsigned shift_ = 64;
    size_t size_ = 0;
};

}  // namespace llcuda::tokenizer_detail
