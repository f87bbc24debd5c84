// i-quant codebooks (grid points) shared by the IQ1/IQ2/IQ3 decoders.
//
// The tables are format data generated from the `gguf` package by
// tests/oracles/quant_gen_iq_grids.py (see the header of the generated files). Each entry packs one
// grid point, byte k = element k: magnitudes {8,25,43} for the IQ2 grids, {4..62} / {1..15} for
// the IQ3 grids, int8 values {-1,0,+1} for IQ1.
#pragma once

#include <cstdint>

namespace llcuda::quant {

extern const uint64_t kIq2xxsGrid[256];
extern const uint64_t kIq2xsGrid[512];
extern const uint64_t kIq2sGrid[1024];
extern const uint64_t kIq1sGrid[2048];
extern const uint32_t kIq3xxsGrid[256];
extern const uint32_t kIq3sGrid[512];

// Sign pattern for a 7-bit sign index: the 8th sign is chosen so the number of minus signs is
// even (bit 7 = parity of the low 7 bits). Derived from that rule, not stored.
constexpr uint8_t iq2_sign_byte(uint32_t index7) {
    const uint32_t parity = uint32_t(__builtin_popcount(index7 & 0x7F)) & 1u;
    return uint8_t((index7 & 0x7F) | (parity << 7));
}

}  // namespace llcuda::quant
