// Scalar conversions between float32 and the 16-bit float formats, bit-exact with ggml
// (../docs/quant.md): f16 is IEEE binary16 with round-to-nearest-even, bf16 rounds to nearest even
// and forces NaNs quiet.
#pragma once

#include <bit>
#include <cstdint>

namespace llcuda {

inline float fp16_to_fp32(uint16_t h) {
    const uint32_t sign = uint32_t(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1Fu;
    const uint32_t mantissa = h & 0x3FFu;
    if (exponent == 0x1F) return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));
    if (exponent == 0) {
        // zero or subnormal: value = mantissa * 2^-24, exact in float32
        const float magnitude = float(mantissa) * 5.9604644775390625e-8f;
        return sign ? -magnitude : magnitude;
    }
    return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

inline uint16_t fp32_to_fp16(float f) {
    const uint32_t bits = std::bit_cast<uint32_t>(f);
    const uint16_t sign = uint16_t((bits >> 16) & 0x8000u);
    const uint32_t abs = bits & 0x7FFFFFFFu;
    if (abs > 0x7F800000u) return sign | 0x7E00u;                 // NaN
    if (abs >= 0x477FF000u) return sign | 0x7C00u;                // rounds to >= 65520: inf
    if (abs < 0x38800000u) {                                      // below 2^-14: subnormal or zero
        // Adding 0.5 shifts the value so the float adder performs the RNE rounding for us.
        const float shifted = std::bit_cast<float>(abs) + 0.5f;
        return sign | uint16_t(std::bit_cast<uint32_t>(shifted) - 0x3F000000u);
    }
    const uint32_t odd = (abs >> 13) & 1u;
    const uint32_t rounded = abs + 0xC8000FFFu + odd;             // rebias exponent, round to even
    return sign | uint16_t(rounded >> 13);
}

inline float bf16_to_fp32(uint16_t b) { return std::bit_cast<float>(uint32_t(b) << 16); }

inline uint16_t fp32_to_bf16(float f) {
    const uint32_t bits = std::bit_cast<uint32_t>(f);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return uint16_t((bits >> 16) | 0x40u);  // quiet NaN
    return uint16_t((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

}  // namespace llcuda
