// The llama Q/K row permutation (docs/checkpoint-formats.md §Q/K permutation): HF stores each head's rotary pairs as
// (first half, second half); llama.cpp's NORM rope wants them interleaved. Within each of the
// n_heads blocks of hd rows: new_row(h*hd + 2i + s) = old_row(h*hd + s*hd/2 + i).
#pragma once

#include <cstdint>
#include <vector>

namespace llcuda::convert {

// data: [rows, cols] row-major, rows = n_heads * hd; permuted in place (also for biases: cols 1).
void permute_qk_rows(std::vector<float>& data, uint64_t rows, uint64_t cols, uint32_t n_heads);

}  // namespace llcuda::convert
