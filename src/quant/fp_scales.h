// The 8-bit block-scale encodings of the FP4 formats (docs/block-formats.md §Scalar conversions). Both decoders return
// *half* the true scale, pairing with kFp4Values, which holds the E2M1 values doubled.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace llcuda::quant {

// E8M0 exponent byte e -> 2^(e-128) (e = 0, 1 use the subnormal bit patterns).
inline float e8m0_half(uint8_t e) {
    const uint32_t bits = e < 2 ? (0x00200000u << e) : (uint32_t(e - 1) << 23);
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

// Unsigned E4M3 byte (bias 7, no sign) -> half its value; 0x00 and 0x7F decode as 0.
inline float ue4m3_half(uint8_t x) {
    if (x == 0 || x == 0x7F) return 0.0f;
    const int exponent = (x >> 3) & 0xF;
    const int mantissa = x & 7;
    const float raw = exponent == 0 ? std::ldexp(float(mantissa), -9)
                                    : std::ldexp(1.0f + float(mantissa) / 8.0f, exponent - 7);
    return raw * 0.5f;
}

// float -> unsigned E4M3: clamp to 448, round the mantissa half-up on the next fp32 bit,
// overflow to 0x7E; subnormals round(x * 512) in 1..7 (0 below).
inline uint8_t fp32_to_ue4m3(float x) {
    if (!(x > 0.0f)) return 0;
    if (x > 448.0f) x = 448.0f;
    uint32_t bits;
    std::memcpy(&bits, &x, 4);
    const int fp32_exp = int((bits >> 23) & 0xFF) - 127;
    int exponent = fp32_exp + 7;
    if (exponent <= 0) {
        const int mantissa = int(x * 512.0f + 0.5f);
        return mantissa < 1 ? 0 : uint8_t(mantissa > 7 ? 7 : mantissa);
    }
    if (exponent >= 15) return 0x7E;
    int mantissa = int((bits >> 20) & 0x7) + int((bits >> 19) & 1);
    if (mantissa > 7) {
        mantissa = 0;
        if (++exponent >= 15) return 0x7E;
    }
    return uint8_t((exponent << 3) | mantissa);
}

}  // namespace llcuda::quant
