// Prefix caching's index: which KV blocks hold the keys/values of which token prefix.
//
// A full block is named by a chain hash: hash(parent block's hash, the block's block_size token
// ids). Because the parent's hash already covers every earlier token, equal hashes mean equal
// content AND equal positions (block i always holds positions [i*bs, (i+1)*bs)), which is what
// makes the stored keys/values reusable. Every entry also keeps its tokens and parent hash, so a
// 64-bit collision is detected instead of silently reusing the wrong keys.
//
// Blocks in the index are either held by sequences (refcount > 0, owned by KvBlockTable) or idle:
// idle indexed blocks sit in an LRU list and are the first thing handed out when the free list is
// empty (evicted: dropped from the index). The refcounts live in KvBlockTable; this class only
// knows names and recency.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace llcuda {

class PrefixIndex {
public:
    static constexpr uint64_t kRootHash = 0x9e3779b97f4a7c15ull;  // the "parent" of block 0
    static uint64_t chain_hash(uint64_t parent, std::span<const int32_t> tokens);

    // The indexed block with this name, if any (tokens and parent checked, not only the hash).
    std::optional<uint32_t> find(uint64_t hash, uint64_t parent, std::span<const int32_t> tokens) const;
    bool contains_block(uint32_t block) const { return by_block_.count(block) != 0; }
    // Adds `block` under `hash` unless the name is taken (an identical block was published first:
    // then `block` stays private and false is returned).
    bool insert(uint32_t block, uint64_t hash, uint64_t parent, std::span<const int32_t> tokens);

    // Idle blocks (held by no sequence): most recently released last.
    void mark_idle(uint32_t block);
    void mark_busy(uint32_t block);  // a sequence attached it again
    uint32_t n_idle() const { return uint32_t(idle_.size()); }
    // Removes the least recently used idle block from the index and returns it (caller checks n_idle).
    uint32_t evict_lru();

private:
    struct Entry {
        uint64_t hash = 0, parent = 0;
        std::vector<int32_t> tokens;
        std::optional<std::list<uint32_t>::iterator> idle_pos;
    };
    std::unordered_map<uint64_t, uint32_t> by_hash_;
    std::unordered_map<uint32_t, Entry> by_block_;
    std::list<uint32_t> idle_;  // LRU order: front is the oldest
};

}  // namespace llcuda
