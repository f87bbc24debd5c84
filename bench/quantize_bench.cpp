// Quantizer throughput in MB/s of F16 input per thread (bytes_per_second counts 2 bytes per input
// weight): the types a Q4_K_M file is made of (Q4_K, Q6_K for some tensors) and Q8_0.
// Rows of 4096 Gaussian weights, the width of a Llama-3-8B projection.
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "llcuda/quantize.h"

namespace {

constexpr uint64_t kCols = 4096;
constexpr uint64_t kRows = 64;

void quantize_rows(benchmark::State& state, llcuda::GgmlType type) {
    std::mt19937 rng(1);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    std::vector<float> x(kRows * kCols);
    for (auto& v : x) v = normal(rng);
    std::vector<uint8_t> out(kRows * llcuda::ggml_row_bytes(type, kCols));
    llcuda::QuantizeOptions options;
    options.n_threads = 1;
    for (auto _ : state) {
        llcuda::quantize(type, x, kCols, out, options);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(x.size()) * 2);  // as F16 input
}

void BM_Quantize_Q4_K(benchmark::State& s) { quantize_rows(s, llcuda::GgmlType::Q4_K); }
void BM_Quantize_Q6_K(benchmark::State& s) { quantize_rows(s, llcuda::GgmlType::Q6_K); }
void BM_Quantize_Q8_0(benchmark::State& s) { quantize_rows(s, llcuda::GgmlType::Q8_0); }
void BM_Dequantize_Q4_K(benchmark::State& state) {
    std::vector<float> x(kRows * kCols, 0.01f);
    const auto q = llcuda::quantize(llcuda::GgmlType::Q4_K, x, kCols);
    for (auto _ : state) {
        llcuda::dequantize(llcuda::GgmlType::Q4_K, q, x);
        benchmark::DoNotOptimize(x.data());
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(x.size()) * 4);  // float32 output
}

BENCHMARK(BM_Quantize_Q4_K)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Quantize_Q6_K)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Quantize_Q8_0)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Dequantize_Q4_K)->Unit(benchmark::kMillisecond);

}  // namespace
