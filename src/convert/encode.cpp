#include "convert/encode.h"

#include <cstring>

#include "core/fp16.h"
#include "llcuda/quantize.h"

namespace llcuda::convert {

std::vector<uint8_t> encode_tensor(GgmlType type, std::span<const float> data, uint64_t ne0, unsigned n_threads) {
    std::vector<uint8_t> out;
    switch (type) {
    case GgmlType::F32:
        out.resize(data.size() * 4);
        std::memcpy(out.data(), data.data(), out.size());
        return out;
    case GgmlType::F16:
    case GgmlType::BF16: {
        out.resize(data.size() * 2);
        for (size_t i = 0; i < data.size(); ++i) {
            const uint16_t h = type == GgmlType::F16 ? fp32_to_fp16(data[i]) : fp32_to_bf16(data[i]);
            std::memcpy(out.data() + 2 * i, &h, 2);
        }
        return out;
    }
    default: {
        QuantizeOptions options;
        options.n_threads = n_threads;
        return quantize(type, data, ne0, options);
    }
    }
}

}  // namespace llcuda::convert
