// KV block table: page tables map positions to distinct slots, blocks return to the pool, and a full
// pool is a clear OutOfMemory error that leaves the sequence usable.
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "kv/kv_blocks.h"
#include "llcuda/error.h"

namespace llcuda {
namespace {

KvCacheShape small_shape() {
    KvCacheShape s;
    s.n_layer = 2;
    s.n_head_kv = 2;
    s.head_dim_k = 4;
    s.head_dim_v = 3;
    s.block_size = 4;
    s.n_blocks = 6;
    return s;
}

TEST(KvBlockTable, SequencesGetDistinctSlots) {
    KvBlockTable kv(small_shape());
    const auto a = kv.create_sequence(), b = kv.create_sequence();
    kv.reserve(a, 10);  // 3 blocks
    kv.reserve(b, 5);   // 2 blocks
    EXPECT_EQ(kv.capacity(a), 12u);
    EXPECT_EQ(kv.n_free_blocks(), 1u);
    std::set<uint64_t> slots;
    for (uint32_t p = 0; p < 10; ++p) slots.insert(kv.slot(a, p));
    for (uint32_t p = 0; p < 5; ++p) slots.insert(kv.slot(b, p));
    EXPECT_EQ(slots.size(), 15u);
    for (uint64_t s : slots) EXPECT_LT(s, small_shape().n_slots());
    // The page table and kv_slot() agree with slot().
    for (uint32_t p = 0; p < 10; ++p) EXPECT_EQ(kv_slot(kv.blocks(a), 4, p), kv.slot(a, p));
    EXPECT_THROW(kv.slot(b, 8), Error);  // beyond b's reserved blocks
}

TEST(KvBlockTable, FullPoolIsOutOfMemoryAndFreeingReturnsBlocks) {
    KvBlockTable kv(small_shape());
    const auto a = kv.create_sequence();
    kv.reserve(a, 20);
    const auto b = kv.create_sequence();
    try {
        kv.reserve(b, 8);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::OutOfMemory);
        EXPECT_NE(std::string(e.what()).find("KV cache is full"), std::string::npos);
    }
    EXPECT_EQ(kv.capacity(b), 0u);
    kv.free_sequence(a);
    EXPECT_EQ(kv.n_free_blocks(), 6u);
    kv.reserve(b, 24);
    EXPECT_EQ(kv.capacity(b), 24u);
    EXPECT_THROW(kv.free_sequence(a), Error);  // already freed
}

TEST(KvBlockTable, ZeroSizedPoolIsRejected) {
    KvCacheShape s = small_shape();
    s.n_blocks = 0;
    EXPECT_THROW(KvBlockTable{s}, Error);
}

// Prefix caching: published full blocks are shared by reference count, stay cached when released,
// and are evicted least recently used once the free list is empty.
TEST(KvBlockTable, PublishedBlocksAreSharedCachedAndEvictedLru) {
    KvBlockTable kv(small_shape());  // 6 blocks of 4
    const std::vector<int32_t> a_tokens = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    const auto a = kv.create_sequence();
    kv.reserve(a, 10);
    kv.publish(a, a_tokens, 10);  // blocks 0 and 1 are full; the third is not
    const auto b = kv.create_sequence();
    // Same first block, different second: only the first is shared.
    const std::vector<int32_t> b_tokens = {1, 2, 3, 4, 5, 6, 7, 99, 9};
    EXPECT_EQ(kv.attach_prefix(b, b_tokens, 8), 4u);
    EXPECT_EQ(kv.blocks(b)[0], kv.blocks(a)[0]);
    EXPECT_EQ(kv.n_used_blocks(), 3u);
    kv.free_sequence(a);  // its first block is still b's; its second stays cached; its third is free
    EXPECT_EQ(kv.n_used_blocks(), 1u);
    EXPECT_EQ(kv.n_cached_blocks(), 1u);
    EXPECT_EQ(kv.n_free_blocks(), 4u);
    kv.free_sequence(b);
    EXPECT_EQ(kv.n_cached_blocks(), 2u);
    // The whole prefix comes back for a repeat, limited by max_positions.
    const auto c = kv.create_sequence();
    EXPECT_EQ(kv.attach_prefix(c, a_tokens, 9), 8u);
    EXPECT_EQ(kv.n_cached_blocks(), 0u);
    kv.free_sequence(c);
    // Filling the pool evicts the cached blocks (oldest first) instead of failing.
    const auto d = kv.create_sequence();
    kv.reserve(d, 24);
    EXPECT_EQ(kv.n_cached_blocks(), 0u);
    EXPECT_EQ(kv.n_used_blocks(), 6u);
    kv.free_sequence(d);
    const auto e = kv.create_sequence();
    EXPECT_EQ(kv.attach_prefix(e, a_tokens, 9), 0u);  // evicted: a miss
}

TEST(KvBlockTable, DuplicatePublishKeepsTheFirstBlock) {
    KvBlockTable kv(small_shape());
    const std::vector<int32_t> tokens = {5, 6, 7, 8};
    const auto a = kv.create_sequence(), b = kv.create_sequence();
    kv.reserve(a, 4);
    kv.reserve(b, 4);
    kv.publish(a, tokens, 4);
    kv.publish(b, tokens, 4);  // same content computed twice: b's block stays private
    kv.free_sequence(a);
    kv.free_sequence(b);
    EXPECT_EQ(kv.n_cached_blocks(), 1u);
    EXPECT_EQ(kv.n_free_blocks(), 5u);
}

}  // namespace
}  // namespace llcuda
