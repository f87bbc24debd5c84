// Sizing the KV pool from free GPU memory (kv/kv_pool_size.h, LoadOptions::kv_memory_fraction):
// the arithmetic on hand-computed cases and its properties (never more than the budget or than
// free memory less the reserve, one context at least, smaller blocks give more of them, a clear
// error naming both byte counts when one context cannot fit), and the engine's handling of the
// option on the CPU, where it does not apply.
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "kv/kv_pool_size.h"
#include "llcuda/engine.h"
#include "llcuda/error.h"
#include "llcuda/kv_size.h"
#include "test_paths.h"

namespace llcuda {
namespace {

constexpr uint64_t kMiB = 1ull << 20, kGiB = 1ull << 30;

DeviceKvRoom room(uint64_t free_bytes, uint64_t reserve_bytes, uint64_t bytes_per_block) {
    DeviceKvRoom r;
    r.free_bytes = free_bytes;
    r.reserve_bytes = reserve_bytes;
    r.bytes_per_block = bytes_per_block;
    return r;
}

TEST(KvPoolSize, HandComputedCases) {
    // 10 GiB free, half of it, 1 MiB blocks: 5120 blocks.
    EXPECT_EQ(kv_blocks_for_memory(room(10 * kGiB, 0, kMiB), 0.5f, 16, 4096), 5120u);
    // A reserve larger than what the fraction leaves wins: min(0.9 * 10, 10 - 6) GiB = 4 GiB.
    EXPECT_EQ(kv_blocks_for_memory(room(10 * kGiB, 6 * kGiB, kMiB), 0.9f, 16, 4096), 4096u);
    // Fraction 1 still leaves the reserve.
    EXPECT_EQ(kv_blocks_for_memory(room(10 * kGiB, kGiB, kMiB), 1.0f, 16, 4096), 9216u);
    // A partial block is not a block: 2.5 blocks' worth gives 2 (context 16 = one block).
    EXPECT_EQ(kv_blocks_for_memory(room(5 * kMiB, 0, 2 * kMiB), 1.0f, 16, 16), 2u);
}

TEST(KvPoolSize, NeverMoreThanTheBudgetNorTheUsableMemory) {
    for (uint64_t free_bytes : {3 * kGiB, 10 * kGiB + 12345, 79 * kGiB}) {
        for (uint64_t reserve : {uint64_t(0), 256 * kMiB, 2 * kGiB}) {
            for (float fraction : {0.3f, 0.5f, 0.9f, 1.0f}) {
                for (uint64_t per_block : {uint64_t(7777), uint64_t(360 * 1024), 2 * kMiB}) {
                    const uint32_t ctx = 2048, block = 16;
                    const uint64_t context_bytes = ctx / block * per_block;
                    const uint32_t n = kv_blocks_for_memory(room(free_bytes, reserve, per_block), fraction, block, ctx);
                    const uint64_t pool = uint64_t(n) * per_block;
                    SCOPED_TRACE(testing::Message() << free_bytes << " free, " << reserve << " reserve, " << fraction
                                                    << ", " << per_block << " B/block -> " << n);
                    EXPECT_GE(n, ctx / block) << "less than one context";
                    EXPECT_LE(pool, free_bytes - reserve) << "the reserve was taken";
                    // Above the fraction's share only when raised to one context.
                    if (pool > uint64_t(double(fraction) * double(free_bytes))) EXPECT_EQ(pool, context_bytes);
                    // Maximal: one more block would break a bound.
                    const uint64_t more = pool + per_block;
                    EXPECT_TRUE(more > free_bytes - reserve || more > uint64_t(double(fraction) * double(free_bytes)));
                }
            }
        }
    }
}

TEST(KvPoolSize, Q8BlocksAreSmallerSoThePoolHoldsMore) {
    // SmolLM2-135M's cache shape: 30 layers, 3 KV heads of 64.
    const uint64_t f16 = 16 * kv_cache_bytes_per_token(30, 3, 64, 64, GgmlType::F16, GgmlType::F16);
    const uint64_t q8 = 16 * kv_cache_bytes_per_token(30, 3, 64, 64, GgmlType::Q8_0, GgmlType::Q8_0);
    ASSERT_LT(q8, f16);
    const uint32_t n_f16 = kv_blocks_for_memory(room(8 * kGiB, 256 * kMiB, f16), 0.9f, 16, 2048);
    const uint32_t n_q8 = kv_blocks_for_memory(room(8 * kGiB, 256 * kMiB, q8), 0.9f, 16, 2048);
    EXPECT_GT(n_q8, n_f16);
    // 34 bytes per 32 values against 64: about 1.88 times the blocks.
    EXPECT_NEAR(double(n_q8) / n_f16, 64.0 / 34.0, 0.01);
}

TEST(KvPoolSize, RaisedToOneContextWhenTheShareIsSmaller) {
    // 1% of 1 GiB is 10 MiB, a tenth of one context of 100 blocks of 1 MiB; 1 GiB less the reserve holds it.
    EXPECT_EQ(kv_blocks_for_memory(room(kGiB, 64 * kMiB, kMiB), 0.01f, 16, 1600), 100u);
}

TEST(KvPoolSize, TooLittleMemoryNamesBothByteCounts) {
    // One context: 256 blocks of 1 MiB = 268435456 bytes; 200 MiB free = 209715200 bytes.
    try {
        kv_blocks_for_memory(room(200 * kMiB, 0, kMiB), 0.9f, 16, 4096);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::OutOfMemory);
        const std::string m = e.what();
        EXPECT_NE(m.find("268435456 bytes"), std::string::npos) << m;
        EXPECT_NE(m.find("209715200 bytes"), std::string::npos) << m;
        EXPECT_NE(m.find("4096 tokens"), std::string::npos) << m;
    }
    // Enough free memory, but not once the reserve is kept: still an error, which names the reserve.
    try {
        kv_blocks_for_memory(room(300 * kMiB, 100 * kMiB, kMiB), 1.0f, 16, 4096);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::OutOfMemory);
        EXPECT_NE(std::string(e.what()).find(std::to_string(100 * kMiB)), std::string::npos) << e.what();
    }
}

TEST(KvPoolSize, BadArgumentsAreInvalid) {
    for (float f : {0.0f, -0.5f, 1.5f, std::numeric_limits<float>::quiet_NaN()}) {
        EXPECT_THROW(kv_blocks_for_memory(room(kGiB, 0, kMiB), f, 16, 64), Error) << f;
    }
    EXPECT_THROW(kv_blocks_for_memory(room(kGiB, 0, 0), 0.5f, 16, 64), Error);
    EXPECT_THROW(kv_blocks_for_memory(room(kGiB, 0, kMiB), 0.5f, 0, 64), Error);
    EXPECT_THROW(kv_blocks_for_memory(room(kGiB, 0, kMiB), 0.5f, 16, 0), Error);
}

TEST(KvPoolSize, CappedAtTheLargestBlockId) {
    EXPECT_EQ(kv_blocks_for_memory(room(uint64_t(1) << 60, 0, 1), 1.0f, 16, 64), kMaxKvPoolBlocks);
}

// On the CPU the option does not apply: the pool is what max_sequences says; out of range is an error.
TEST(KvPoolSize, TheCpuIgnoresTheFractionButChecksIt) {
    LLCUDA_REQUIRE_FILE(test::smollm2_path());
    LoadOptions o;
    o.backend = Backend::Cpu;
    o.context_length = 128;
    o.n_threads = 2;
    o.max_sequences = 2;
    o.kv_memory_fraction = 0.9f;
    InferenceEngine engine;
    engine.load_model(test::smollm2_path(), o);
    EXPECT_EQ(engine.scheduler_stats().kv_blocks_total, 2u * 128 / 16);
    o.kv_memory_fraction = 1.5f;
    try {
        engine.load_model(test::smollm2_path(), o);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
        EXPECT_NE(std::string(e.what()).find("kv_memory_fraction"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace llcuda
