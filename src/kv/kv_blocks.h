// The paged KV cache's bookkeeping, shared by every backend: a pool of fixed-size blocks and a page
// table per sequence. Storage (host floats for the CPU, device memory for CUDA) belongs to the
// backend and is addressed by slot = block id * block_size + position % block_size.
//
//   page table of a sequence: logical block i (positions [i*block_size, (i+1)*block_size)) -> block id
//
// A block id names the same slot range in every layer's pool, so a sequence allocates one id per
// block_size positions. Sequences grow block by block and return their blocks when freed.
//
// Prefix caching (kv/prefix_cache.h): a full block whose tokens are known can be published under
// its chain hash; a new sequence attaches the published blocks that match the start of its tokens
// instead of recomputing them. Blocks carry reference counts: a shared block is returned only when
// its last holder frees it, and then, if published, it stays cached (idle, evicted least recently
// used when the free list runs dry) rather than free. Every block is in exactly one state:
// used (held by a sequence), cached (idle in the index) or free.
#pragma once

#include <cstdint>
#include "kv/prefix_cache.h"
#include <span>
#include <vector>

namespace llcuda {

struct KvCacheShape {
    uint32_t n_layer = 0;
    uint32_t n_head_kv = 0;
    uint32_t head_dim_k = 0;
    uint32_t head_dim_v = 0;
    uint32_t block_size = 16;   // positions per block
    uint32_t n_blocks = 0;      // blocks in the pool

    uint64_t k_row() const { return uint64_t(n_head_kv) * head_dim_k; }  // elements of one slot of K
    uint64_t v_row() const { return uint64_t(n_head_kv) * head_dim_v; }
    uint64_t n_slots() const { return uint64_t(n_blocks) * block_size; }
};

class KvBlockTable {
public:
    using SeqId = uint32_t;

    // Throws InvalidArgument for a zero block size or count.
    explicit KvBlockTable(const KvCacheShape& shape);

    const KvCacheShape& shape() const { return shape_; }
    SeqId create_sequence();
    void free_sequence(SeqId seq);
    // Makes positions [0, n_positions) addressable for `seq`; throws OutOfMemory ("KV cache is full")
    // when the pool has too few free or cached blocks, leaving the sequence as it was. Cached blocks
    // are evicted (least recently used first) only once the free list is empty.
    void reserve(SeqId seq, uint32_t n_positions);
    uint32_t capacity(SeqId seq) const;  // positions addressable now
    uint32_t n_free_blocks() const { return uint32_t(free_blocks_.size()); }
    uint32_t n_cached_blocks() const { return index_.n_idle(); }  // held only by the prefix cache
    uint32_t n_used_blocks() const { return shape_.n_blocks - n_free_blocks() - n_cached_blocks(); }
    uint32_t n_available_blocks() const { return n_free_blocks() + n_cached_blocks(); }
    uint32_t blocks_for(uint64_t n_positions) const {
        return uint32_t((n_positions + shape_.block_size - 1) / shape_.block_size);
    }

    // For an empty sequence: attaches the published blocks matching the longest run of full blocks
    // at the start of `tokens`, covering at most max_positions; returns the positions attached (a
    // multiple of block_size). Their keys/values need not be computed again.
    uint32_t attach_prefix(SeqId seq, std::span<const int32_t> tokens, uint32_t max_positions);
    // Publishes every full block of `seq` within [0, n_positions) not yet published; tokens[0,
    // n_positions) are the ids whose keys/values those positions hold (already computed).
    void publish(SeqId seq, std::span<const int32_t> tokens, uint32_t n_positions);
    // The page table: block id of each logical block of `seq`.
    std::span<const uint32_t> blocks(SeqId seq) const;
    // Storage slot of `position` (throws Internal beyond the reserved blocks).
    uint64_t slot(SeqId seq, uint32_t position) const;

private:
    std::vector<uint32_t>& table(SeqId seq);
    const std::vector<uint32_t>& table(SeqId seq) const;

    uint32_t take_block();        // a free block, else an evicted cached one (caller checked availability)
    void release_block(uint32_t block);

    KvCacheShape shape_;
    std::vector<uint32_t> free_blocks_;
    std::vector<uint32_t> refs_;                      // per block: sequences holding it
    PrefixIndex index_;
    std::vector<std::vector<uint32_t>> page_tables_;  // per sequence slot
    std::vector<std::vector<uint64_t>> chain_;        // per sequence: chain hash of each published leading block
    std::vector<bool> sequence_live_;
};

// Slot of `position` in a page table (no bounds check: callers validate the batch once).
inline uint64_t kv_slot(std::span<const uint32_t> blocks, uint32_t block_size, uint32_t position) {
    return uint64_t(blocks[position / block_size]) * block_size + position % block_size;
}

}  // namespace llcuda
