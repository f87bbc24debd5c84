// The paged KV cache's bookkeeping, shared by every backend: a pool of fixed-size blocks and a page
// table per sequence. Storage (host floats for the CPU, device memory for CUDA) belongs to the
// backend and is addressed by slot = block id * block_size + position % block_size.
//
//   page table of a sequence: logical block i (positions [i*block_size, (i+1)*block_size)) -> block id
//
// A block id names the same slot range in every layer's pool, so a sequence allocates one id per
// block_size positions. Sequences grow block by block and return their blocks when freed; this is
// the layout continuous batching and prefix sharing build on.
#pragma once

#include <cstdint>
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
    // when the pool has too few free blocks, leaving the sequence as it was.
    void reserve(SeqId seq, uint32_t n_positions);
    uint32_t capacity(SeqId seq) const;  // positions addressable now
    uint32_t n_free_blocks() const { return uint32_t(free_blocks_.size()); }
    // The page table: block id of each logical block of `seq`.
    std::span<const uint32_t> blocks(SeqId seq) const;
    // Storage slot of `position` (throws Internal beyond the reserved blocks).
    uint64_t slot(SeqId seq, uint32_t position) const;

private:
    std::vector<uint32_t>& table(SeqId seq);
    const std::vector<uint32_t>& table(SeqId seq) const;

    KvCacheShape shape_;
    std::vector<uint32_t> free_blocks_;
    std::vector<std::vector<uint32_t>> page_tables_;  // per sequence slot
    std::vector<bool> sequence_live_;
};

// Slot of `position` in a page table (no bounds check: callers validate the batch once).
inline uint64_t kv_slot(std::span<const uint32_t> blocks, uint32_t block_size, uint32_t position) {
    return uint64_t(blocks[position / block_size]) * block_size + position % block_size;
}

}  // namespace llcuda
