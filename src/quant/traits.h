// The quantization traits table: one row per ggml type, indexed by the on-disk type id.
//
// A row says how many elements and bytes a block has and which scalar routines convert it. All
// dispatch in the module goes through quant_traits(); adding a type means one struct in blocks.h,
// its routines, and one row in traits.cpp.
#pragma once

#include <cstdint>

#include "llcuda/ggml_type.h"

namespace llcuda::quant {

// Decodes n_blocks consecutive blocks starting at `src` (any alignment) into
// n_blocks * block_size floats at `dst`.
using DequantizeFn = void (*)(const uint8_t* src, float* dst, int64_t n_blocks);

// Encodes one row of n_per_row floats (a whole number of blocks) into `dst`.
// `imatrix` is nullptr or n_per_row importance weights (one per column); types that ignore it
// are free to.
using QuantizeRowFn = void (*)(const float* src, uint8_t* dst, int64_t n_per_row, const float* imatrix);

struct QuantTraits {
    GgmlType type;
    uint32_t block_size = 0;    // elements per block
    uint32_t type_size = 0;     // bytes per block
    DequantizeFn dequantize = nullptr;
    QuantizeRowFn quantize = nullptr;  // nullptr: we cannot produce this type
    bool uses_imatrix = false;         // quantize() reads the importance matrix when given one
};

// nullptr for ids outside the table or with no dequantizer (removed ggml ids).
const QuantTraits* find_quant_traits(uint32_t type_id);
// Throws llcuda::Error(Unsupported) naming the type when there is no row.
const QuantTraits& quant_traits(GgmlType type);

// The per-type routines (DequantizeFn / QuantizeRowFn signatures), defined in dequant_*.cpp and
// quantize_*.cpp. They are declared here, and referenced only by the table in traits.cpp, so that
// file is the one place that ties types to routines.
#define LLCUDA_DECLARE_DEQ(name) void dequantize_##name(const uint8_t*, float*, int64_t);
#define LLCUDA_DECLARE_Q(name) void quantize_row_##name(const float*, uint8_t*, int64_t, const float*);

LLCUDA_DECLARE_DEQ(f32) LLCUDA_DECLARE_DEQ(f16) LLCUDA_DECLARE_DEQ(bf16) LLCUDA_DECLARE_DEQ(f64)
LLCUDA_DECLARE_DEQ(i8) LLCUDA_DECLARE_DEQ(i16) LLCUDA_DECLARE_DEQ(i32) LLCUDA_DECLARE_DEQ(i64)
LLCUDA_DECLARE_DEQ(q4_0) LLCUDA_DECLARE_DEQ(q4_1) LLCUDA_DECLARE_DEQ(q5_0) LLCUDA_DECLARE_DEQ(q5_1)
LLCUDA_DECLARE_DEQ(q8_0) LLCUDA_DECLARE_DEQ(q8_1) LLCUDA_DECLARE_DEQ(iq4_nl) LLCUDA_DECLARE_DEQ(mxfp4)
LLCUDA_DECLARE_DEQ(nvfp4) LLCUDA_DECLARE_DEQ(q1_0) LLCUDA_DECLARE_DEQ(q2_0)
LLCUDA_DECLARE_DEQ(tq1_0) LLCUDA_DECLARE_DEQ(tq2_0)
LLCUDA_DECLARE_DEQ(q2_k) LLCUDA_DECLARE_DEQ(q3_k) LLCUDA_DECLARE_DEQ(q4_k) LLCUDA_DECLARE_DEQ(q5_k)
LLCUDA_DECLARE_DEQ(q6_k) LLCUDA_DECLARE_DEQ(q8_k)
LLCUDA_DECLARE_DEQ(iq2_xxs) LLCUDA_DECLARE_DEQ(iq2_xs) LLCUDA_DECLARE_DEQ(iq2_s)
LLCUDA_DECLARE_DEQ(iq3_xxs) LLCUDA_DECLARE_DEQ(iq3_s) LLCUDA_DECLARE_DEQ(iq1_s) LLCUDA_DECLARE_DEQ(iq1_m)
LLCUDA_DECLARE_DEQ(iq4_xs)

LLCUDA_DECLARE_Q(f32) LLCUDA_DECLARE_Q(f16) LLCUDA_DECLARE_Q(bf16)
LLCUDA_DECLARE_Q(q4_0) LLCUDA_DECLARE_Q(q4_1) LLCUDA_DECLARE_Q(q5_0) LLCUDA_DECLARE_Q(q5_1)
LLCUDA_DECLARE_Q(q8_0) LLCUDA_DECLARE_Q(q8_1) LLCUDA_DECLARE_Q(mxfp4)
LLCUDA_DECLARE_Q(tq1_0) LLCUDA_DECLARE_Q(tq2_0)
LLCUDA_DECLARE_Q(q2_k) LLCUDA_DECLARE_Q(q3_k) LLCUDA_DECLARE_Q(q4_k) LLCUDA_DECLARE_Q(q5_k)
LLCUDA_DECLARE_Q(q6_k) LLCUDA_DECLARE_Q(iq4_nl) LLCUDA_DECLARE_Q(iq4_xs)
LLCUDA_DECLARE_Q(nvfp4) LLCUDA_DECLARE_Q(q1_0) LLCUDA_DECLARE_Q(q2_0) LLCUDA_DECLARE_Q(q8_k)

#undef LLCUDA_DECLARE_DEQ
#undef LLCUDA_DECLARE_Q

}  // namespace llcuda::quant
