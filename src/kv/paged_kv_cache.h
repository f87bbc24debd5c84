// Paged key/value cache: fixed-size blocks from one pool, and a page table per sequence.
//
//   K pool of layer l: (n_blocks, block_size, n_head_kv * head_dim_k) float32
//   V pool of layer l: (n_blocks, block_size, n_head_kv * head_dim_v) float32
//   page table of a sequence: logical block i (positions [i*block_size, (i+1)*block_size)) -> block id
//
// A block id names the same slot in every layer's pool, so a sequence allocates one id per
// block_size positions. Sequences grow block by block and return their blocks when freed; this is
// the layout continuous batching and prefix sharing build on.
#pragma once

#include <cstdint>
#include <vector>

namespace llcuda {

struct KvCacheShape {
    uint32_t n_layer = 0;
    uint32_t n_head_kv = 0;
    uint32_t head_dim_k = 0;
    uint32_t head_dim_v = 0;
    uint32_t block_size = 16;   // positions per block
    uint32_t n_blocks = 0;      // blocks in the pool

    uint64_t k_row() const { return uint64_t(n_head_kv) * head_dim_k; }
    uint64_t v_row() const { return uint64_t(n_head_kv) * head_dim_v; }
    // Bytes of K and V for one position across all layers.
    uint64_t bytes_per_position() const { return uint64_t(n_layer) * (k_row() + v_row()) * sizeof(float); }
};

class PagedKvCache {
public:
    using SeqId = uint32_t;

    // Throws OutOfMemory when the pool cannot be allocated.
    explicit PagedKvCache(const KvCacheShape& shape);

    const KvCacheShape& shape() const { return shape_; }
    SeqId create_sequence();
    void free_sequence(SeqId seq);
    // Makes positions [0, n_positions) addressable for `seq`; throws OutOfMemory ("KV cache is full")
    // when the pool has too few free blocks, leaving the sequence as it was.
    void reserve(SeqId seq, uint32_t n_positions);
    uint32_t capacity(SeqId seq) const;  // positions addressable now
    uint32_t n_free_blocks() const { return uint32_t(free_blocks_.size()); }

    float* key(uint32_t layer, SeqId seq, uint32_t position);    // k_row() floats
    float* value(uint32_t layer, SeqId seq, uint32_t position);  // v_row() floats
    const float* key(uint32_t layer, SeqId seq, uint32_t position) const;
    const float* value(uint32_t layer, SeqId seq, uint32_t position) const;

private:
    uint64_t slot(SeqId seq, uint32_t position) const;  // block id * block_size + offset
    std::vector<uint32_t>& table(SeqId seq);
    const std::vector<uint32_t>& table(SeqId seq) const;

    KvCacheShape shape_;
    std::vector<std::vector<float>> k_pools_, v_pools_;      // per layer
    std::vector<uint32_t> free_blocks_;
    std::vector<std::vector<uint32_t>> page_tables_;         // per sequence slot
    std::vector<bool> sequence_live_;
};

}  // namespace llcuda
