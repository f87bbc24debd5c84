#include "convert/permute.h"

#include <algorithm>

#include <fmt/format.h>

#include "llcuda/error.h"

namespace llcuda::convert {

void permute_qk_rows(std::vector<float>& data, uint64_t rows, uint64_t cols, uint32_t n_heads) {
    if (n_heads == 0 || rows % n_heads != 0 || (rows / n_heads) % 2 != 0 || data.size() != rows * cols)
        throw Error(ErrorKind::FormatError,
                    fmt::format("cannot permute {} rows for {} rotary heads", rows, n_heads));
    const uint64_t hd = rows / n_heads, half = hd / 2;
    std::vector<float> out(data.size());  // [rows, cols]
    for (uint64_t h = 0; h < n_heads; ++h)
        for (uint64_t s = 0; s < 2; ++s)
            for (uint64_t i = 0; i < half; ++i) {
                const float* src = data.data() + (h * hd + s * half + i) * cols;
                std::copy(src, src + cols, out.data() + (h * hd + 2 * i + s) * cols);
            }
    data.swap(out);
}

}  // namespace llcuda::convert
