// The GPU op harness: one registry of cases, each a kernel run against its CPU reference. The test
// binary (test_cuda_ops) turns every case into a gtest that checks the normalized error against the
// case's tolerance; the bench binary (bench_cuda_ops) runs the same cases timed and prints achieved
// bandwidth as a percentage of the device-to-device copy bandwidth it measures at start-up.
//
// A case file (`*_cases.cu`) registers its list with LLCUDA_OP_CASES(fn), fn returning
// std::vector<OpCase>. Inputs are fresh random data for every run (never zeros) and outputs are
// poisoned with NaN before the kernel runs, so an unwritten element fails the check.
#pragma once

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace llcuda::cuda::test {

#define CUDA_OK(expr)                                                                                       \
    do {                                                                                                    \
        const cudaError_t err_ = (expr);                                                                    \
        if (err_ != cudaSuccess)                                                                            \
            throw std::runtime_error(std::string(#expr) + ": " + cudaGetErrorString(err_) + " at " __FILE__ \
                                     ":" + std::to_string(__LINE__));                                       \
    } while (0)

// What one run of a case produced.
struct CaseResult {
    double error = INFINITY;     // ||gpu - cpu|| / ||cpu||  (INFINITY when any output is NaN)
    double median_us = 0;        // timed runs only
    uint64_t bytes = 0;          // fewest bytes the kernel must move (inputs read once, outputs written once)
    double flops = 0;            // arithmetic the kernel must do
};

struct OpCase {
    std::string family;          // "matmul", "rms_norm", ...
    std::string name;            // shape and type, e.g. "q4_K 4096x4096 n=1"
    double tolerance = 1e-5;     // largest accepted normalized error
    // Runs the kernel once on fresh random inputs and compares with the CPU reference; when
    // `timed`, also times `reps` launches (after warm-up) with device events and reports the median.
    std::function<CaseResult(bool timed)> run;
};

std::vector<OpCase>& op_case_registry();
struct OpCaseRegistrar {
    explicit OpCaseRegistrar(std::vector<OpCase> (*fn)()) {
        for (auto& c : fn()) op_case_registry().push_back(std::move(c));
    }
};
#define LLCUDA_OP_CASES_CAT2(a, b) a##b
#define LLCUDA_OP_CASES_CAT(a, b) LLCUDA_OP_CASES_CAT2(a, b)
#define LLCUDA_OP_CASES(fn) static ::llcuda::cuda::test::OpCaseRegistrar LLCUDA_OP_CASES_CAT(op_cases_, __LINE__)(fn)

// Device memory freed on scope exit.
template <class T>
class DeviceArray {
public:
    DeviceArray() = default;
    explicit DeviceArray(size_t n) : n_(n) { CUDA_OK(cudaMalloc(&p_, n * sizeof(T) + 16)); }
    explicit DeviceArray(const std::vector<T>& host) : DeviceArray(host.size()) { upload(host); }
    ~DeviceArray() { if (p_) cudaFree(p_); }
    DeviceArray(const DeviceArray&) = delete;
    DeviceArray& operator=(const DeviceArray&) = delete;
    DeviceArray(DeviceArray&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr; }
    T* get() const { return p_; }
    size_t size() const { return n_; }
    void upload(const std::vector<T>& host) { CUDA_OK(cudaMemcpy(p_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice)); }
    std::vector<T> download() const {
        std::vector<T> h(n_);
        CUDA_OK(cudaMemcpy(h.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
        return h;
    }
    void poison() { CUDA_OK(cudaMemset(p_, 0xFF, n_ * sizeof(T))); }  // NaN for float/half

private:
    T* p_ = nullptr;
    size_t n_ = 0;
};

// Uniform random floats in [lo, hi); a new seed per call unless one is given.
std::vector<float> random_floats(size_t n, float lo = -1.0f, float hi = 1.0f, uint64_t seed = 0);
std::mt19937_64& test_rng();

// ||got - ref|| / ||ref|| in float64; INFINITY when got has a NaN or infinity, or sizes differ.
double normalized_error(const std::vector<float>& got, const std::vector<float>& ref);

// Median time in microseconds of one run of `launch` (after `warmup` runs), from device events
// around batches of back-to-back launches.
double time_median_us(const std::function<void()>& launch, int warmup = 5, int reps = 50);

// Checks the last launch error and synchronizes (throws with the error text).
void sync_check(const char* what);

}  // namespace llcuda::cuda::test
