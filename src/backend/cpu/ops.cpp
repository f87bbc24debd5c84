#include "backend/cpu/ops.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "llcuda/quantize.h"

namespace llcuda::cpu {

float dot(const float* a, const float* b, uint64_t n) {
    // Eight independent partial sums let the compiler vectorize without reassociating one sum.
    float acc[8] = {};
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int k = 0; k < 8; ++k) acc[k] += a[i + k] * b[i + k];
    }
    float tail = 0;
    for (; i < n; ++i) tail += a[i] * b[i];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

void rms_norm(const float* x, std::span<const float> weight, float eps, float* out) {
    const size_t n = weight.size();
    double sum_sq = 0;
    for (size_t i = 0; i < n; ++i) sum_sq += double(x[i]) * x[i];
    const float scale = 1.0f / std::sqrt(float(sum_sq / double(n)) + eps);
    for (size_t i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

void read_row(const MatrixView& w, uint64_t row, float* out) {
    dequantize(w.type, std::span<const uint8_t>(w.row(row), w.row_bytes), std::span<float>(out, w.n_cols));
}

void matmul_rows(ThreadPool& pool, const MatrixView& w, uint64_t row_begin, uint64_t row_end, const float* x,
                 uint32_t n_tokens, float* y) {
    const uint64_t n_out = row_end - row_begin;
    pool.parallel_for(n_out, [&](size_t begin, size_t end) {
        std::vector<float> row(w.n_cols);  // one decoded weight row, reused for every token
        for (size_t r = begin; r < end; ++r) {
            read_row(w, row_begin + r, row.data());
            for (uint32_t t = 0; t < n_tokens; ++t) y[t * n_out + r] = dot(row.data(), x + t * w.n_cols, w.n_cols);
        }
    });
}

void matmul(ThreadPool& pool, const MatrixView& w, const float* x, uint32_t n_tokens, float* y) {
    matmul_rows(pool, w, 0, w.n_rows, x, n_tokens, y);
}

void rope(float* heads, uint32_t n_heads, uint32_t head_dim, uint32_t rope_dim, RopeStyle style, uint32_t position,
          float base, float freq_scale, std::span<const float> freq_factors) {
    const uint32_t half = rope_dim / 2;
    for (uint32_t i = 0; i < half; ++i) {
        float theta = float(position) * freq_scale * std::pow(base, -2.0f * float(i) / float(rope_dim));
        if (!freq_factors.empty()) theta /= freq_factors[i];
        const float c = std::cos(theta), s = std::sin(theta);
        for (uint32_t h = 0; h < n_heads; ++h) {
            float* v = heads + uint64_t(h) * head_dim;
            const uint32_t a = style == RopeStyle::Adjacent ? 2 * i : i;
            const uint32_t b = style == RopeStyle::Adjacent ? 2 * i + 1 : i + half;
            const float x0 = v[a], x1 = v[b];
            v[a] = x0 * c - x1 * s;
            v[b] = x0 * s + x1 * c;
        }
    }
}

void softmax(float* x, uint32_t n) {
    const float max = *std::max_element(x, x + n);
    double sum = 0;
    for (uint32_t i = 0; i < n; ++i) {
        x[i] = std::exp(x[i] - max);
        sum += x[i];
    }
    const float inv = float(1.0 / sum);
    for (uint32_t i = 0; i < n; ++i) x[i] *= inv;
}

float silu(float x) { return x / (1.0f + std::exp(-x)); }

float gelu_tanh(float x) {
    constexpr float kSqrt2OverPi = 0.7978845608028654f;
    return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
}

}  // namespace llcuda::cpu
