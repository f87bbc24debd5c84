// bitsandbytes 4-bit quantization (NF4 / FP4) with optional double quantization of the absmax
// statistics (docs/block-formats.md §bitsandbytes NF4 and FP4). Reproduces bitsandbytes' CPU path:
//  * 4-bit codes: x * (1/absmax) (x / absmax for a trailing partial block), clamped to [-1, 1],
//    then the number of sorted-code midpoints strictly below it (torch.bucketize), mapped back to
//    the code index; two codes per byte, even element in the high nibble.
//  * double quantization: absmax - mean(absmax) in blocks of 256 against the signed dynamic map,
//    through bitsandbytes' 65536-entry lookup table over [-1, 1].
#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <string>

#include <fmt/format.h>

#include "llcuda/error.h"
#include "llcuda/quantize.h"

namespace llcuda {
namespace {

constexpr std::array<float, 16> kNf4 = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
    -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f,
    0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f,
    0.7229568362236023f, 1.0f};
// FP4 (E2M1-like, normalized by 12): bit 3 = sign, bits 0-2 index the magnitudes. Code 8 is -0
// as in bitsandbytes' scalar CPU decoder (its AVX-512 decoder and torch fallback give +0 there).
constexpr std::array<float, 16> kFp4 = {
    0.0f, 0.0052083334885537624f, 0.6666666865348816f, 1.0f, 0.3333333432674408f, 0.5f,
    0.1666666716337204f, 0.25f, -0.0f, -0.0052083334885537624f, -0.6666666865348816f, -1.0f,
    -0.3333333432674408f, -0.5f, -0.1666666716337204f, -0.25f};

constexpr uint32_t kNestedBlock = 256;  // double-quantization block size
constexpr int kLutSize = 65536;

// Codes in ascending value order (stable for the two zeros of FP4) and the 15 midpoints.
struct SortedCode {
    std::array<uint8_t, 16> order{};
    std::array<float, 15> bounds{};
    explicit SortedCode(const std::array<float, 16>& code) {
        std::iota(order.begin(), order.end(), uint8_t(0));
        std::stable_sort(order.begin(), order.end(), [&](uint8_t a, uint8_t b) { return code[a] < code[b]; });
        for (int i = 0; i < 15; ++i) bounds[i] = (code[order[i]] + code[order[i + 1]]) / 2.0f;
    }
    uint8_t encode(float scaled) const {  // torch.bucketize(right=False): count of bounds < scaled
        int k = 0;
        while (k < 15 && bounds[k] < scaled) ++k;
        return order[k];
    }
};

const std::array<float, 16>& code_of(Bnb4Type type) { return type == Bnb4Type::NF4 ? kNf4 : kFp4; }

void check_blocksize(uint32_t blocksize) {
    if (blocksize < 32 || blocksize > 4096 || (blocksize & (blocksize - 1)) != 0)
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("bnb4: blocksize {} is not a power of two in 32..4096", blocksize));
}

// bitsandbytes' CPU blockwise 8-bit quantizer: for each of 65536 evenly spaced points in [-1, 1]
// the index of the nearest map entry (advancing while the next midpoint is below the point).
std::vector<uint8_t> build_lut(const std::vector<float>& map) {
    std::vector<float> mid(map.size() - 1);
    for (size_t i = 0; i + 1 < map.size(); ++i) mid[i] = 0.5f * (map[i] + map[i + 1]);
    std::vector<uint8_t> lut(kLutSize);
    size_t idx = 0;
    for (int i = 0; i < kLutSize; ++i) {
        const float val = -1.0f + (2.0f * float(i)) / float(kLutSize - 1);
        while (idx < mid.size() && mid[idx] < val) ++idx;
        lut[i] = uint8_t(idx);
    }
    return lut;
}

inline int lut_index(float v) {
    v = std::clamp(v, -1.0f, 1.0f);
    const float scaled = (v + 1.0f) * 0.5f;
    return int(uint16_t(scaled * float(kLutSize - 1) + 0.5f));
}

}  // namespace

std::span<const float> bnb4_code_values(Bnb4Type type) { return code_of(type); }

std::vector<float> bnb_dynamic_map_signed() {
    // create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): for i = 0..6 the 2^i
    // midpoints of linspace(0.1, 1, 2^i + 1) (float32, torch's two-sided linspace) times
    // 10^(i-6), with both signs, plus 0 and 1, sorted.
    std::vector<float> data;
    for (int i = 0; i < 7; ++i) {
        const int steps = (1 << i) + 1;
        std::vector<float> b(steps);
        const float start = 0.1f, end = 1.0f;
        const float step = (end - start) / float(steps - 1);
        // torch's vectorized CPU linspace evaluates start + step*k (and end - step*(steps-1-k)
        // for the upper half) as fused multiply-adds; plain float arithmetic differs in the last bit.
        for (int k = 0; k < steps; ++k)
            b[k] = k < steps / 2 ? std::fma(step, float(k), start) : std::fma(-step, float(steps - k - 1), end);
        const float scale = float(std::pow(10.0, double(i - 6)));
        for (int k = 0; k + 1 < steps; ++k) {
            const float mean = (b[k] + b[k + 1]) / 2.0f;
            data.push_back(scale * mean);
            data.push_back(-scale * mean);
        }
    }
    data.push_back(0.0f);
    data.push_back(1.0f);
    std::sort(data.begin(), data.end());
    return data;
}

Bnb4Tensor bnb4_quantize(Bnb4Type type, std::span<const float> src, uint32_t blocksize, bool double_quant) {
    check_blocksize(blocksize);
    const SortedCode sorted(code_of(type));
    Bnb4Tensor t;
    t.type = type;
    t.blocksize = blocksize;
    t.n_elements = src.size();
    const uint64_t n = src.size(), full = n - n % blocksize, n_blocks = (n + blocksize - 1) / blocksize;
    t.absmax.resize(n_blocks);
    std::vector<uint8_t> codes(n + (n % 2));  // an odd count is padded with one 0.0 element
    for (uint64_t b = 0; b < n_blocks; ++b) {
        const uint64_t begin = b * blocksize, end = std::min(n, begin + blocksize);
        float amax = 0.0f;
        for (uint64_t i = begin; i < end; ++i) amax = std::max(amax, std::fabs(src[i]));
        const float divisor = std::max(amax, 1e-38f);
        const bool partial = end > full;  // the trailing partial block divides instead
        t.absmax[b] = partial ? divisor : amax;
        const float inv = 1.0f / divisor;
        for (uint64_t i = begin; i < end; ++i) {
            const float scaled = std::clamp(partial ? src[i] / divisor : src[i] * inv, -1.0f, 1.0f);
            codes[i] = sorted.encode(scaled);
        }
    }
    if (n % 2) codes[n] = sorted.encode(0.0f);
    t.packed.resize(codes.size() / 2);
    for (size_t k = 0; k < t.packed.size(); ++k) t.packed[k] = uint8_t((codes[2 * k] << 4) | codes[2 * k + 1]);

    if (double_quant) {
        t.double_quant = true;
        t.nested_map = bnb_dynamic_map_signed();
        double sum = 0.0;
        for (float a : t.absmax) sum += a;
        t.nested_offset = float(sum / double(n_blocks));
        const std::vector<uint8_t> lut = build_lut(t.nested_map);
        const uint64_t n_nested = (n_blocks + kNestedBlock - 1) / kNestedBlock;
        t.nested_absmax.resize(n_nested);
        t.absmax_codes.resize(n_blocks);
        for (uint64_t nb = 0; nb < n_nested; ++nb) {
            const uint64_t begin = nb * kNestedBlock, end = std::min(n_blocks, begin + kNestedBlock);
            float amax = 0.0f;
            for (uint64_t i = begin; i < end; ++i) amax = std::max(amax, std::fabs(t.absmax[i] - t.nested_offset));
            t.nested_absmax[nb] = amax;
            const float inv = amax != 0.0f ? 1.0f / amax : 0.0f;
            for (uint64_t i = begin; i < end; ++i)
                t.absmax_codes[i] = amax != 0.0f ? lut[lut_index((t.absmax[i] - t.nested_offset) * inv)] : 0;
        }
        t.absmax.clear();
    }
    return t;
}

void bnb4_dequantize(const Bnb4Tensor& t, std::span<float> dst) {
    check_blocksize(t.blocksize);
    const uint64_t n = t.n_elements, n_blocks = (n + t.blocksize - 1) / t.blocksize;
    if (dst.size() != n)
        throw Error(ErrorKind::InvalidArgument, fmt::format("bnb4: output has {} values, tensor {}", dst.size(), n));
    if (t.packed.size() != (n + 1) / 2)
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("bnb4: {} packed bytes for {} elements (need {})", t.packed.size(), n, (n + 1) / 2));
    std::vector<float> absmax;
    if (t.double_quant) {
        const uint64_t n_nested = (n_blocks + kNestedBlock - 1) / kNestedBlock;
        if (t.absmax_codes.size() != n_blocks || t.nested_absmax.size() != n_nested || t.nested_map.size() != 256)
            throw Error(ErrorKind::InvalidArgument, "bnb4: double-quantization statistics have the wrong sizes");
        absmax.resize(n_blocks);
        for (uint64_t i = 0; i < n_blocks; ++i)
            absmax[i] = t.nested_map[t.absmax_codes[i]] * t.nested_absmax[i / kNestedBlock] + t.nested_offset;
    } else {
        if (t.absmax.size() != n_blocks)
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("bnb4: {} absmax values for {} blocks", t.absmax.size(), n_blocks));
        absmax = t.absmax;
    }
    const auto& code = code_of(t.type);
    for (uint64_t i = 0; i < n; ++i) {
        const uint8_t byte = t.packed[i / 2];
        const uint8_t q = i % 2 == 0 ? byte >> 4 : byte & 0xF;
        dst[i] = code[q] * absmax[i / t.blocksize];
    }
}

}  // namespace llcuda
