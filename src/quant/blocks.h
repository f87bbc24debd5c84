// One packed struct per ggml block type, byte-for-byte the on-disk layout (docs/block-formats.md).
//
// Every field sits at its natural alignment inside the block, so no packing pragma is needed; the
// static_asserts pin the sizes. Blocks inside a tensor can start at any byte offset (MXFP4 blocks
// are 17 bytes), so code never dereferences a block pointer into a file buffer: it memcpy's the
// block into one of these structs first. f16 fields are raw uint16 bit patterns.
#pragma once

#include <bit>
#include <cstdint>

namespace llcuda::quant {

static_assert(std::endian::native == std::endian::little, "quant blocks are little-endian");

inline constexpr int kQK = 32;    // elements of the simple 32-element blocks
inline constexpr int kQK_K = 256; // elements of a K-quant / i-quant super-block

// --- simple 32-element blocks; nibble order: qs[j] = element j (low) | element j+16 (high) ---
struct BlockQ4_0 { uint16_t d; uint8_t qs[16]; };                 // x = (q-8)*d
struct BlockQ4_1 { uint16_t d; uint16_t m; uint8_t qs[16]; };     // x = q*d + m
struct BlockQ5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; };  // qh: LE u32, bit i = bit 4 of q_i
struct BlockQ5_1 { uint16_t d; uint16_t m; uint8_t qh[4]; uint8_t qs[16]; };
struct BlockQ8_0 { uint16_t d; int8_t qs[32]; };
struct BlockQ8_1 { uint16_t d; uint16_t s; int8_t qs[32]; };      // s = d * sum(qs)
struct BlockIQ4_NL { uint16_t d; uint8_t qs[16]; };               // x = d * kIq4nlValues[q]
struct BlockMXFP4 { uint8_t e; uint8_t qs[16]; };                 // E8M0 scale, E2M1 codes

// --- other small blocks ---
struct BlockNVFP4 { uint8_t d[4]; uint8_t qs[32]; };  // 4 sub-blocks of 16, UE4M3 scales
struct BlockQ1_0 { uint16_t d; uint8_t qs[16]; };     // 128 elements, 1 bit each: +d / -d
struct BlockQ2_0 { uint16_t d; uint8_t qs[16]; };     // 64 elements, 2 bits each: (q-1)*d

// --- K-quants, 256 elements ---
struct BlockQ2_K { uint8_t scales[16]; uint8_t qs[64]; uint16_t d; uint16_t dmin; };
struct BlockQ3_K { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; uint16_t d; };
struct BlockQ4_K { uint16_t d; uint16_t dmin; uint8_t scales[12]; uint8_t qs[128]; };
struct BlockQ5_K { uint16_t d; uint16_t dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; };
struct BlockQ6_K { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; };
struct BlockQ8_K { float d; int8_t qs[256]; int16_t bsums[16]; };

// --- ternary, 256 elements ---
struct BlockTQ1_0 { uint8_t qs[48]; uint8_t qh[4]; uint16_t d; };  // base-3, 5 trits per byte
struct BlockTQ2_0 { uint8_t qs[64]; uint16_t d; };                 // 2 bits per element

// --- i-quants, 256 elements ---
struct BlockIQ2_XXS { uint16_t d; uint16_t qs[32]; };
struct BlockIQ2_XS { uint16_t d; uint16_t qs[32]; uint8_t scales[8]; };
struct BlockIQ2_S { uint16_t d; uint8_t qs[64]; uint8_t qh[8]; uint8_t scales[8]; };  // qs: 32 idx + 32 signs
struct BlockIQ3_XXS { uint16_t d; uint8_t qs[96]; };  // 64 grid indices, then 8 x u32 scale+signs
struct BlockIQ3_S { uint16_t d; uint8_t qs[64]; uint8_t qh[8]; uint8_t signs[32]; uint8_t scales[4]; };
struct BlockIQ1_S { uint16_t d; uint8_t qs[32]; uint16_t qh[8]; };
struct BlockIQ1_M { uint8_t qs[32]; uint8_t qh[16]; uint8_t scales[8]; };  // f16 d split over scales
struct BlockIQ4_XS { uint16_t d; uint16_t scales_h; uint8_t scales_l[4]; uint8_t qs[128]; };

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34 && sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockIQ4_NL) == 18 && sizeof(BlockMXFP4) == 17 && sizeof(BlockNVFP4) == 36);
static_assert(sizeof(BlockQ1_0) == 18 && sizeof(BlockQ2_0) == 18);
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110 && sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8_K) == 292);
static_assert(sizeof(BlockTQ1_0) == 54 && sizeof(BlockTQ2_0) == 66);
static_assert(sizeof(BlockIQ2_XXS) == 66 && sizeof(BlockIQ2_XS) == 74 && sizeof(BlockIQ2_S) == 82);
static_assert(sizeof(BlockIQ3_XXS) == 98 && sizeof(BlockIQ3_S) == 110);
static_assert(sizeof(BlockIQ1_S) == 50 && sizeof(BlockIQ1_M) == 56 && sizeof(BlockIQ4_XS) == 136);

// Non-linear 4-bit code books (docs/block-formats.md §32-element types).
inline constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};
// E2M1 values doubled (true value = entry / 2); index = sign bit 3 + 3 magnitude bits.
inline constexpr int8_t kFp4Values[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

inline constexpr float kIq1Delta = 0.125f;  // IQ1S_DELTA = IQ1M_DELTA

}  // namespace llcuda::quant
