// Helpers shared by the per-family block routines: safe block loads/stores and the rounding
// primitives ggml's reference code relies on (docs/block-formats.md §Scalar conversions).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/fp16.h"

namespace llcuda::quant {

// Applies `decode(block, out)` to n_blocks blocks read from an arbitrarily aligned byte buffer.
// `out` advances by `kElems` floats per block.
template <class Block, int kElems, class Decode>
inline void for_each_block(const uint8_t* src, float* dst, int64_t n_blocks, Decode decode) {
    for (int64_t i = 0; i < n_blocks; ++i) {
        Block block;
        std::memcpy(&block, src + i * int64_t(sizeof(Block)), sizeof(Block));
        decode(block, dst + i * kElems);
    }
}

// Encodes n_per_row / kElems blocks: `encode(x, block)` fills a zeroed block from kElems floats.
template <class Block, int kElems, class Encode>
inline void encode_blocks(const float* src, uint8_t* dst, int64_t n_per_row, Encode encode) {
    for (int64_t i = 0; i < n_per_row / kElems; ++i) {
        Block block{};
        encode(src + i * kElems, block, i);
        std::memcpy(dst + i * int64_t(sizeof(Block)), &block, sizeof(Block));
    }
}

inline float f16_to_f32(uint16_t h) { return fp16_to_fp32(h); }
inline uint16_t f32_to_f16(float f) { return fp32_to_fp16(f); }

// ggml's nearest_int: round half to even via the 1.5*2^23 trick (valid for |f| <= 4194303).
inline int nearest_int(float f) {
    const float shifted = f + 12582912.0f;
    int32_t bits;
    std::memcpy(&bits, &shifted, sizeof bits);
    return (bits & 0x007FFFFF) - 0x00400000;
}

}  // namespace llcuda::quant
