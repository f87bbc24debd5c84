// The size of a key/value cache: the one formula the VRAM planner, `llcuda recommend`,
// `llcuda quantize --dry-run` and the KV caches of the backends all use.
#pragma once

#include <cstdint>

#include "llcuda/ggml_type.h"

namespace llcuda {

// Bytes of K and V for one token (one position of one sequence) across all layers:
//
//   n_layer * (row_bytes(k_type, n_head_kv * head_dim_k) + row_bytes(v_type, n_head_kv * head_dim_v))
//
// Each layer stores one K row and one V row per position, as llama.cpp sizes its cache rows; the
// element type sets the bytes (F32: 4, F16: 2, Q8_0: 34 per block of 32). Throws InvalidArgument
// when a row is not a whole number of the type's blocks. Sliding-window layers are counted at full
// length (an upper bound for caches that keep only the window).
inline uint64_t kv_cache_bytes_per_token(uint32_t n_layer, uint32_t n_head_kv, uint32_t head_dim_k, uint32_t head_dim_v,
                                         GgmlType k_type, GgmlType v_type) {
    const uint64_t k_row = ggml_row_bytes(k_type, uint64_t(n_head_kv) * head_dim_k);
    const uint64_t v_row = ggml_row_bytes(v_type, uint64_t(n_head_kv) * head_dim_v);
    return uint64_t(n_layer) * (k_row + v_row);
}

}  // namespace llcuda
