// Packing of the 6-bit sub-block scales shared by the K-quant decoders and encoders
// (docs/block-formats.md §K-quants).
#pragma once

#include <cstdint>

namespace llcuda::quant {

// Q4_K / Q5_K: 8 six-bit scales and 8 six-bit mins in 12 bytes ("get_scale_min_k4").
inline void k4_scale_min(const uint8_t* b, int j, int& scale, int& min) {
    if (j < 4) {
        scale = b[j] & 63;
        min = b[j + 4] & 63;
    } else {
        scale = (b[j + 4] & 0xF) | ((b[j - 4] >> 6) << 4);
        min = (b[j + 4] >> 4) | ((b[j] >> 6) << 4);
    }
}

inline void k4_pack_scale_min(uint8_t* b, int j, int scale, int min) {
    if (j < 4) {
        b[j] = uint8_t(scale);
        b[j + 4] = uint8_t(min);
    } else {
        b[j + 4] = uint8_t((scale & 0xF) | ((min & 0xF) << 4));
        b[j - 4] |= uint8_t((scale >> 4) << 6);
        b[j] |= uint8_t((min >> 4) << 6);
    }
}

// Q3_K: 16 six-bit values (stored = signed scale + 32). Low 4 bits in the nibbles of bytes 0..7,
// high 2 bits in bytes 8..11 at bit position 2*(k/4).
inline int q3k_scale(const uint8_t* b, int k) {
    const int low = k < 8 ? (b[k] & 0xF) : (b[k - 8] >> 4);
    const int high = (b[8 + k % 4] >> (2 * (k / 4))) & 3;
    return low | (high << 4);
}

inline void q3k_pack_scale(uint8_t* b, int k, int stored) {
    if (k < 8) b[k] |= uint8_t(stored & 0xF);
    else b[k - 8] |= uint8_t((stored & 0xF) << 4);
    b[8 + k % 4] |= uint8_t((stored >> 4) << (2 * (k / 4)));
}

}  // namespace llcuda::quant
