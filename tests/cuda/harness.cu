#include "harness.h"

#include <algorithm>

namespace llcuda::cuda::test {

std::vector<OpCase>& op_case_registry() {
    static std::vector<OpCase> cases;
    return cases;
}

std::mt19937_64& test_rng() {
    static std::mt19937_64 rng(std::random_device{}());
    return rng;
}

std::vector<float> random_floats(size_t n, float lo, float hi, uint64_t seed) {
    std::mt19937_64 local(seed ? seed : test_rng()());
    std::uniform_real_distribution<float> dist(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = dist(local);
    return v;
}

double normalized_error(const std::vector<float>& got, const std::vector<float>& ref) {
    if (got.size() != ref.size()) return INFINITY;
    double num = 0, den = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        if (!std::isfinite(got[i])) return INFINITY;
        const double d = double(got[i]) - double(ref[i]);
        num += d * d;
        den += double(ref[i]) * double(ref[i]);
    }
    return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

double time_median_us(const std::function<void()>& launch, int warmup, int reps) {
    // Each sample times kBatch back-to-back launches between one pair of events, so the event and
    // launch latency of a lone kernel (several microseconds) does not hide its real duration; what
    // remains is close to what the kernel costs inside a CUDA graph.
    constexpr int kBatch = 20;
    for (int i = 0; i < warmup; ++i) launch();
    CUDA_OK(cudaDeviceSynchronize());
    cudaEvent_t a, b;
    CUDA_OK(cudaEventCreate(&a));
    CUDA_OK(cudaEventCreate(&b));
    std::vector<double> us;
    const int samples = std::max(3, reps / kBatch * 2);
    for (int i = 0; i < samples; ++i) {
        CUDA_OK(cudaEventRecord(a));
        for (int k = 0; k < kBatch; ++k) launch();
        CUDA_OK(cudaEventRecord(b));
        CUDA_OK(cudaEventSynchronize(b));
        float ms = 0;
        CUDA_OK(cudaEventElapsedTime(&ms, a, b));
        us.push_back(ms * 1000.0 / kBatch);
    }
    CUDA_OK(cudaGetLastError());
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    std::sort(us.begin(), us.end());
    return us[us.size() / 2];
}

void sync_check(const char* what) {
    cudaError_t err = cudaGetLastError();
    if (err == cudaSuccess) err = cudaDeviceSynchronize();
    if (err != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
}

}  // namespace llcuda::cuda::test
