// Dequantizers for the codebook ("i-quant") types and IQ4_XS (docs/block-formats.md §i-quants). Each group of 8
// (IQ2/IQ1) or 4 (IQ3) elements is one grid point times a sign pattern times a block scale.
#include <cstring>

#include "quant/block_io.h"
#include "quant/blocks.h"
#include "quant/iq_grids.h"
#include "quant/traits.h"

namespace llcuda::quant {
namespace {

// Byte k of a packed grid entry as an unsigned magnitude / signed value.
inline float grid_u8(uint64_t entry, int k) { return float(uint8_t(entry >> (8 * k))); }
inline float grid_i8(uint64_t entry, int k) { return float(int8_t(uint8_t(entry >> (8 * k)))); }

inline uint32_t load_u32(const void* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// 8 elements = db * grid magnitude, negated where the sign byte has a bit set.
inline void emit8(float* y, float db, uint64_t entry, uint8_t signs) {
    for (int k = 0; k < 8; ++k) {
        const float v = db * grid_u8(entry, k);
        y[k] = (signs >> k) & 1 ? -v : v;
    }
}

}  // namespace

void dequantize_iq2_xxs(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockIQ2_XXS, kQK_K>(s, d, n, [](const BlockIQ2_XXS& b, float* y) {
        const float dall = f16_to_f32(b.d);
        for (int ib = 0; ib < 8; ++ib, y += 32) {  // 32 elements = u32 grid bytes + u32 signs/scale
            const uint32_t idx = load_u32(&b.qs[4 * ib]);
            const uint32_t aux = load_u32(&b.qs[4 * ib + 2]);
            const float db = dall * (0.5f + float(aux >> 28)) * 0.25f;
            for (int l = 0; l < 4; ++l)
                emit8(y + 8 * l, db, kIq2xxsGrid[(idx >> (8 * l)) & 0xFF], iq2_sign_byte(aux >> (7 * l)));
        }
    });
}

void dequantize_iq2_xs(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockIQ2_XS, kQK_K>(s, d, n, [](const BlockIQ2_XS& b, float* y) {
        const float dall = f16_to_f32(b.d);
        for (int g = 0; g < 32; ++g) {  // group of 8; scale nibble per 16 elements
            const int scale = (b.scales[g / 4] >> (4 * ((g / 2) % 2))) & 0xF;
            const float db = dall * (0.5f + float(scale)) * 0.25f;
            emit8(y + 8 * g, db, kIq2xsGrid[b.qs[g] & 511], iq2_sign_byte(b.qs[g] >> 9));
        }
    });
}

void dequantize_iq2_s(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockIQ2_S, kQK_K>(s, d, n, [](const BlockIQ2_S& b, float* y) {
        const float dall = f16_to_f32(b.d);
        for (int g = 0; g < 32; ++g) {  // group of 8: 10-bit grid index, explicit sign byte
            const int ib = g / 4, l = g % 4;
            const int scale = (b.scales[ib] >> (4 * (l / 2))) & 0xF;
            const float db = dall * (0.5f + float(scale)) * 0.25f;
            const int index = b.qs[g] | (((b.qh[ib] >> (2 * l)) & 3) << 8);
            emit8(y + 8 * g, db, kIq2sGrid[index], b.qs[32 + g]);
        }
    });
}

void dequantize_iq3_xxs(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockIQ3_XXS, kQK_K>(s, d, n, [](const BlockIQ3_XXS& b, float* y) {
        const float dall = f16_to_f32(b.d);
        for (int ib = 0; ib < 8; ++ib, y += 32) {
            const uint32_t aux = load_u32(&b.qs[64 + 4 * ib]);
            const float db = dall * (0.5f + float(aux >> 28)) * 0.5f;
            for (int l = 0; l < 4; ++l) {  // 8 elements = two 4-element grid points
                const uint8_t signs = iq2_sign_byte(aux >> (7 * l));
                const uint64_t pair = uint64_t(kIq3xxsGrid[b.qs[8 * ib + 2 * l]]) |
                                      (uint64_t(kIq3xxsGrid[b.qs[8 * ib + 2 * l + 1]]) << 32);
                emit8(y + 8 * l, db, pair, signs);
            }
        }
    });
}

void dequantize_iq3_s(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockIQ3_S, kQK_K>(s, d, n, [](const BlockIQ3_S& b, float* y) {
        const float dall = f16_to_f32(b.d);
        for (int ib = 0; ib < 8; ++ib, y += 32) {
            const int scale = (b.scales[ib / 2] >> (4 * (ib % 2))) & 0xF;
            const float db = dall * float(1 + 2 * scale);
            for (int l = 0; l < 4; ++l) {
                auto index = [&](int k) { return b.qs[8 * ib + k] | (((b.qh[ib] >> k) & 1) << 8); };
                const uint64_t pair = uint64_t(kIq3sGrid[index(2 * l)]) |
                                      (uint64_t(kIq3sGrid[index(2 * l + 1)]) << 32);
                emit8(y + 8 * l, db, pair, b.signs[4 * ib + l]);
            }
        }
    });
}

void dequantize_iq1_s(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockIQ1_S, kQK_K>(s, d, n, [](const BlockIQ1_S& b, float* y) {
        const float dall = f16_to_f32(b.d);
        for (int ib = 0; ib < 8; ++ib, y += 32) {
            const uint16_t qh = b.qh[ib];
            const float dl = dall * float(2 * ((qh >> 12) & 7) + 1);
            const float delta = (qh & 0x8000) ? -kIq1Delta : kIq1Delta;
            for (int l = 0; l < 4; ++l) {
                const uint64_t entry = kIq1sGrid[b.qs[4 * ib + l] | (((qh >> (3 * l)) & 7) << 8)];
                for (int k = 0; k < 8; ++k) y[8 * l + k] = dl * (grid_i8(entry, k) + delta);
            }
        }
    });
}

void dequantize_iq1_m(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockIQ1_M, kQK_K>(s, d, n, [](const BlockIQ1_M& b, float* y) {
        uint16_t sc[4];
        std::memcpy(sc, b.scales, 8);
        // The f16 super-scale is the top nibble of each of the four scale words.
        const uint16_t dbits = uint16_t((sc[0] >> 12) | ((sc[1] >> 8) & 0x00F0) | ((sc[2] >> 4) & 0x0F00) |
                                        (sc[3] & 0xF000));
        const float dall = f16_to_f32(dbits);
        for (int g = 0; g < 32; ++g) {  // group of 8; 3-bit scale per 16 elements
            const int half = g / 2;
            const int scale = (sc[half / 4] >> (3 * (half % 4))) & 7;
            const float dl = dall * float(2 * scale + 1);
            const int nib = (b.qh[g / 2] >> (4 * (g % 2))) & 0xF;
            const float delta = (nib & 8) ? -kIq1Delta : kIq1Delta;
            const uint64_t entry = kIq1sGrid[b.qs[g] | ((nib & 7) << 8)];
            for (int k = 0; k < 8; ++k) y[8 * g + k] = dl * (grid_i8(entry, k) + delta);
        }
    });
}

void dequantize_iq4_xs(const uint8_t* s, float* d, int64_t n) {
    for_each_block<BlockIQ4_XS, kQK_K>(s, d, n, [](const BlockIQ4_XS& b, float* y) {
        const float dall = f16_to_f32(b.d);
        for (int ib = 0; ib < 8; ++ib, y += 32) {
            const int ls = ((b.scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((b.scales_h >> (2 * ib)) & 3) << 4);
            const float dl = dall * float(ls - 32);
            const uint8_t* qs = b.qs + 16 * ib;
            for (int j = 0; j < 16; ++j) {
                y[j] = dl * float(kIq4nlValues[qs[j] & 0xF]);
                y[j + 16] = dl * float(kIq4nlValues[qs[j] >> 4]);
            }
        }
    });
}

}  // namespace llcuda::quant
