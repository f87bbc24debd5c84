// Reference operations of the CPU backend: plain loops, float32 accumulation. The CUDA backend's
// kernels are checked against these.
#pragma once

#include <cstdint>
#include <span>

#include "core/thread_pool.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace llcuda::cpu {

// out = x / sqrt(mean(x^2) + eps) * weight; out may alias x. n = weight size.
void rms_norm(const float* x, std::span<const float> weight, float eps, float* out);

// y (n_tokens x W.n_rows) = x (n_tokens x W.n_cols) · Wᵀ. Each weight row is decoded once and used
// for every token, so prefill amortizes the dequantization; rows are split over the pool's threads.
void matmul(ThreadPool& pool, const MatrixView& w, const float* x, uint32_t n_tokens, float* y);
// Only rows [row_begin, row_end) of W (y has row_end - row_begin columns).
void matmul_rows(ThreadPool& pool, const MatrixView& w, uint64_t row_begin, uint64_t row_end, const float* x,
                 uint32_t n_tokens, float* y);

// Decodes row `row` of W into out (W.n_cols floats): embedding lookup.
void read_row(const MatrixView& w, uint64_t row, float* out);

// Rotates the first rope_dim dimensions of each of n_heads heads (head_dim apart) for `position`.
// theta_i = position * freq_scale * base^(-2i/rope_dim) / factor_i (factors: Llama-3 rope_freqs).
void rope(float* heads, uint32_t n_heads, uint32_t head_dim, uint32_t rope_dim, RopeStyle style, uint32_t position,
          float base, float freq_scale, std::span<const float> freq_factors);

void softmax(float* x, uint32_t n);
float silu(float x);
float gelu_tanh(float x);
float dot(const float* a, const float* b, uint64_t n);

}  // namespace llcuda::cpu
