// Paged KV cache: page tables map positions to distinct slots, blocks return to the pool, and a full
// pool is a clear OutOfMemory error that leaves the sequence usable.
#include <set>

#include <gtest/gtest.h>

#include "kv/paged_kv_cache.h"
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

TEST(PagedKvCache, SequencesGetDistinctSlotsAndKeepTheirData) {
    PagedKvCache kv(small_shape());
    const auto a = kv.create_sequence(), b = kv.create_sequence();
    kv.reserve(a, 10);  // 3 blocks
    kv.reserve(b, 5);   // 2 blocks
    EXPECT_EQ(kv.capacity(a), 12u);
    EXPECT_EQ(kv.n_free_blocks(), 1u);
    std::set<const float*> slots;
    for (uint32_t p = 0; p < 10; ++p) {
        slots.insert(kv.key(1, a, p));
        kv.key(1, a, p)[0] = float(p);
        kv.value(0, a, p)[2] = float(100 + p);
    }
    for (uint32_t p = 0; p < 5; ++p) {
        slots.insert(kv.key(1, b, p));
        kv.key(1, b, p)[0] = -1.0f;
    }
    EXPECT_EQ(slots.size(), 15u);
    for (uint32_t p = 0; p < 10; ++p) {
        EXPECT_EQ(kv.key(1, a, p)[0], float(p));
        EXPECT_EQ(kv.value(0, a, p)[2], float(100 + p));
    }
    EXPECT_THROW(kv.key(0, b, 8), Error);  // beyond b's reserved blocks
}

TEST(PagedKvCache, FullPoolIsOutOfMemoryAndFreeingReturnsBlocks) {
    PagedKvCache kv(small_shape());
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
}

}  // namespace
}  // namespace llcuda
