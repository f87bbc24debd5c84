// Importance-weighted quantizers for Q4_0, Q4_1, Q5_0, Q5_1 (docs/block-formats.md §Importance matrix). Used by the row
// quantizers in quantize_simple.cpp when an importance matrix is given.
#pragma once

#include <cstdint>

namespace llcuda::quant {

void quantize_row_q4_0_imatrix(const float* x, uint8_t* y, int64_t n_per_row, const float* imatrix);
void quantize_row_q4_1_imatrix(const float* x, uint8_t* y, int64_t n_per_row, const float* imatrix);
void quantize_row_q5_0_imatrix(const float* x, uint8_t* y, int64_t n_per_row, const float* imatrix);
void quantize_row_q5_1_imatrix(const float* x, uint8_t* y, int64_t n_per_row, const float* imatrix);

}  // namespace llcuda::quant
