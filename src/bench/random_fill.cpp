#include "bench/random_fill.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <numbers>

#include <fmt/format.h>

#include "core/fp16.h"
#include "llcuda/error.h"
#include "llcuda/quantize.h"
#include "quant/blocks.h"

namespace llcuda::bench {
namespace {

using namespace llcuda::quant;

// Random bytes, 8 at a time.
void fill_random_bytes(uint8_t* dst, size_t n, SplitMix64& rng) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint64_t r = rng.next();
        std::memcpy(dst + i, &r, 8);
    }
    if (i < n) {
        const uint64_t r = rng.next();
        std::memcpy(dst + i, &r, n - i);
    }
}

// Samples of `d` with the tails cut at 6 sigma (Box-Muller on a fixed stream).
std::vector<float> sample_table(ValueDistribution d, size_t n) {
    SplitMix64 rng{0x5EED0F7AB1Eull};
    std::vector<float> out(n);
    for (size_t i = 0; i < n; i += 2) {
        const double u1 = (double(rng.next() >> 11) + 0.5) * 0x1.0p-53;  // (0, 1)
        const double u2 = double(rng.next() >> 11) * 0x1.0p-53;
        const double r = std::sqrt(-2.0 * std::log(u1));
        const double z[2] = {r * std::cos(2 * std::numbers::pi * u2), r * std::sin(2 * std::numbers::pi * u2)};
        for (size_t j = 0; j < 2 && i + j < n; ++j)
            out[i + j] = d.mean + d.stddev * float(std::clamp(z[j], -6.0, 6.0));
    }
    return out;
}

// Multiplier applied to the base scale of a block, from a random byte: uniform in [0.5, 1.5].
float scale_factor(int k) { return 0.5f + float(k) / 255.0f; }

}  // namespace

uint64_t derive_seed(uint64_t parent, uint64_t index) {
    SplitMix64 a{parent ^ (index * 0xD1B54A32D192ED03ull)};
    a.next();
    return a.next();
}

// f16 fields of each block (blocks.h layouts). The min field is set to dmin_ratio * d, which
// cancels the mean of the d term over uniform random quants and sub-scales, centring x on zero.
BlockFiller::Layout BlockFiller::layout_of(GgmlType type) {
    const auto L = [](size_t d, size_t dmin = size_t(-1), float ratio = 0.0f) {
        return Layout{int(d), dmin == size_t(-1) ? -1 : int(dmin), ratio};
    };
    switch (type) {
        case GgmlType::Q4_0: return L(offsetof(BlockQ4_0, d));
        case GgmlType::Q4_1: return L(offsetof(BlockQ4_1, d), offsetof(BlockQ4_1, m), -7.5f);   // x = q*d + m, q 0..15
        case GgmlType::Q5_0: return L(offsetof(BlockQ5_0, d));
        case GgmlType::Q5_1: return L(offsetof(BlockQ5_1, d), offsetof(BlockQ5_1, m), -15.5f);  // q 0..31
        case GgmlType::Q8_0: return L(offsetof(BlockQ8_0, d));
        // K-quants: x = d*sc*q - dmin*m with 6-bit (Q2_K: 4-bit) sc and m, so dmin = mean(q) * d.
        case GgmlType::Q2_K: return L(offsetof(BlockQ2_K, d), offsetof(BlockQ2_K, dmin), 1.5f);
        case GgmlType::Q3_K: return L(offsetof(BlockQ3_K, d));
        case GgmlType::Q4_K: return L(offsetof(BlockQ4_K, d), offsetof(BlockQ4_K, dmin), 7.5f);
        case GgmlType::Q5_K: return L(offsetof(BlockQ5_K, d), offsetof(BlockQ5_K, dmin), 15.5f);
        case GgmlType::Q6_K: return L(offsetof(BlockQ6_K, d));
        case GgmlType::IQ4_NL: return L(offsetof(BlockIQ4_NL, d));
        case GgmlType::IQ4_XS: return L(offsetof(BlockIQ4_XS, d));
        case GgmlType::TQ1_0: return L(offsetof(BlockTQ1_0, d));
        case GgmlType::TQ2_0: return L(offsetof(BlockTQ2_0, d));
        case GgmlType::IQ2_XXS: return L(offsetof(BlockIQ2_XXS, d));
        case GgmlType::IQ2_XS: return L(offsetof(BlockIQ2_XS, d));
        case GgmlType::IQ2_S: return L(offsetof(BlockIQ2_S, d));
        case GgmlType::IQ3_XXS: return L(offsetof(BlockIQ3_XXS, d));
        case GgmlType::IQ3_S: return L(offsetof(BlockIQ3_S, d));
        case GgmlType::IQ1_S: return L(offsetof(BlockIQ1_S, d));
        default: return {};
    }
}

bool BlockFiller::supports(GgmlType type) {
    return type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16 || layout_of(type).d_offset >= 0;
}

BlockFiller::BlockFiller(GgmlType type, ValueDistribution distribution) : type_(type) {
    if (!supports(type))
        throw Error(ErrorKind::Unsupported,
                    fmt::format("bench model: random data for type {} is not supported", ggml_type_name(type)));
    block_bytes_ = ggml_type_info(type).type_size;
    layout_ = layout_of(type);
    if (type == GgmlType::F32) {
        f32_table_ = sample_table(distribution, 65536);
    } else if (type == GgmlType::F16 || type == GgmlType::BF16) {
        const std::vector<float> values = sample_table(distribution, 65536);
        half_table_.resize(values.size());
        for (size_t i = 0; i < values.size(); ++i)
            half_table_[i] = type == GgmlType::F16 ? fp32_to_fp16(values[i]) : fp32_to_bf16(values[i]);
    } else {
        calibrate(distribution);
    }
}

// Measures the RMS of blocks whose scale is 1 with the project's own dequantizer, and sets the
// scale tables so that filled blocks have the requested RMS (quantized types ignore the mean).
void BlockFiller::calibrate(ValueDistribution distribution) {
    constexpr uint64_t kBlocks = 512;
    std::vector<uint8_t> blocks(kBlocks * block_bytes_);
    SplitMix64 rng{0xCA11B8A7Eull};
    fill_random_bytes(blocks.data(), blocks.size(), rng);
    const uint16_t one = fp32_to_fp16(1.0f), ratio = fp32_to_fp16(layout_.dmin_ratio);
    for (uint64_t b = 0; b < kBlocks; ++b) {
        fix_codes(&blocks[b * block_bytes_]);
        std::memcpy(&blocks[b * block_bytes_ + layout_.d_offset], &one, 2);
        if (layout_.dmin_offset >= 0) std::memcpy(&blocks[b * block_bytes_ + layout_.dmin_offset], &ratio, 2);
    }
    std::vector<float> values(kBlocks * ggml_type_info(type_).block_size);
    dequantize(type_, blocks, values);
    double sum_sq = 0;
    for (float v : values) sum_sq += double(v) * v;
    const double rms = std::sqrt(sum_sq / double(values.size()));
    // The per-block factor is uniform on [0.5, 1.5]: its mean square is 1 + 1/12.
    const double base = distribution.stddev / (rms * std::sqrt(1.0 + 1.0 / 12.0));
    if (!(base > 0) || !std::isfinite(base))
        throw Error(ErrorKind::Internal, fmt::format("bench model: calibration of {} failed", ggml_type_name(type_)));
    for (int k = 0; k < 256; ++k) {
        const double d = base * scale_factor(k);
        d_table_[k] = fp32_to_fp16(float(d));
        dmin_table_[k] = fp32_to_fp16(float(d * layout_.dmin_ratio));
    }
}

void BlockFiller::fix_codes(uint8_t* block) const {
    if (type_ == GgmlType::TQ2_0) {
        // Ternary: the 2-bit code 3 never occurs in real files (it would bias x = d*(q-1)); make it 1.
        for (size_t i = 0; i < sizeof(BlockTQ2_0::qs); ++i) block[i] ^= block[i] & 0xAA & (block[i] << 1);
    }
}

void BlockFiller::fill_scales(uint8_t* dst, uint64_t n_blocks) const {
    for (uint64_t b = 0; b < n_blocks; ++b) {
        uint8_t* block = dst + b * block_bytes_;
        fix_codes(block);
        const uint8_t k = block[layout_.d_offset];  // already random: picks this block's scale
        std::memcpy(block + layout_.d_offset, &d_table_[k], 2);
        if (layout_.dmin_offset >= 0) std::memcpy(block + layout_.dmin_offset, &dmin_table_[k], 2);
    }
}

void BlockFiller::fill(uint8_t* dst, uint64_t n_blocks, uint64_t seed) const {
    SplitMix64 rng{seed};
    if (!f32_table_.empty()) {
        uint64_t i = 0;
        for (; i + 4 <= n_blocks; i += 4) {
            const uint64_t r = rng.next();
            const float v[4] = {f32_table_[r & 0xFFFF], f32_table_[(r >> 16) & 0xFFFF], f32_table_[(r >> 32) & 0xFFFF],
                                f32_table_[r >> 48]};
            std::memcpy(dst + i * 4, v, sizeof v);
        }
        for (uint64_t r = rng.next(); i < n_blocks; ++i, r >>= 16) std::memcpy(dst + i * 4, &f32_table_[r & 0xFFFF], 4);
    } else if (!half_table_.empty()) {
        uint64_t i = 0;
        for (; i + 4 <= n_blocks; i += 4) {
            const uint64_t r = rng.next();
            const uint16_t v[4] = {half_table_[r & 0xFFFF], half_table_[(r >> 16) & 0xFFFF],
                                   half_table_[(r >> 32) & 0xFFFF], half_table_[r >> 48]};
            std::memcpy(dst + i * 2, v, sizeof v);
        }
        for (uint64_t r = rng.next(); i < n_blocks; ++i, r >>= 16) std::memcpy(dst + i * 2, &half_table_[r & 0xFFFF], 2);
    } else {
        fill_random_bytes(dst, n_blocks * block_bytes_, rng);
        fill_scales(dst, n_blocks);
    }
}

}  // namespace llcuda::bench
