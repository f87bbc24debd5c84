// float32 rows -> the bytes of one GGUF tensor of a given ggml type.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "llcuda/ggml_type.h"

namespace llcuda::convert {

// data: [n_rows, ne0] row-major float32. F32/F16/BF16 are converted element-wise (RNE, as ggml);
// other types go through llcuda::quantize.
std::vector<uint8_t> encode_tensor(GgmlType type, std::span<const float> data, uint64_t ne0, unsigned n_threads);

}  // namespace llcuda::convert
