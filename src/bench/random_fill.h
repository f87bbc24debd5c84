// Random tensor data written directly in a ggml type: random quant bits with every scale field
// set to a value in the range real files have, so dequantized weights look like real ones
// (RMS ~ a chosen target, finite) without ever going through float32 and a quantizer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "llcuda/ggml_type.h"

namespace llcuda::bench {

// splitmix64: a fast generator with good statistical quality for filling buffers.
struct SplitMix64 {
    uint64_t state;
    uint64_t next() {
        uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
};

// A stream seed for piece `index` of a stream `parent`: each piece gets an independent sequence,
// so data can be generated in parallel and still not depend on how the work was split.
uint64_t derive_seed(uint64_t parent, uint64_t index);

// What the values represent: matrix weights (mean 0) or RMSNorm gains (around 1).
struct ValueDistribution {
    float mean = 0.0f;
    float stddev = 0.02f;  // the RMS of real LLM weight matrices is of this order
};

class BlockFiller {
public:
    // Types the filler knows the block layout of (their scale fields).
    static bool supports(GgmlType type);

    // Throws Unsupported for a type supports() rejects.
    BlockFiller(GgmlType type, ValueDistribution distribution);

    GgmlType type() const { return type_; }
    size_t block_bytes() const { return block_bytes_; }

    // Fills `n_blocks` whole blocks at dst; the bytes depend only on `seed`.
    void fill(uint8_t* dst, uint64_t n_blocks, uint64_t seed) const;

private:
    struct Layout {
        int d_offset = -1;     // byte offset of the f16 scale in the block (-1: a float type)
        int dmin_offset = -1;  // offset of the f16 min / dmin field (-1: none)
        float dmin_ratio = 0;  // dmin = ratio * d centres the dequantized values on zero
    };
    static Layout layout_of(GgmlType type);
    void calibrate(ValueDistribution distribution);
    void fix_codes(uint8_t* block) const;  // codes real files never hold
    void fill_scales(uint8_t* dst, uint64_t n_blocks) const;

    GgmlType type_;
    size_t block_bytes_ = 0;
    Layout layout_;
    // Quantized types: f16 scale and min bit patterns, indexed by a random byte (factor 0.5..1.5).
    std::array<uint16_t, 256> d_table_{}, dmin_table_{};
    // Float types: 65536 samples of the distribution in the element format, indexed by 16 random bits.
    std::vector<uint16_t> half_table_;  // F16 or BF16
    std::vector<float> f32_table_;
};

}  // namespace llcuda::bench
