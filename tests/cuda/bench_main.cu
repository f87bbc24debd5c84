// bench_cuda_ops [FILTER]: the op cases timed, each with its achieved bandwidth as a percentage of
// the device-to-device copy bandwidth measured here at start-up (bytes read + bytes written).
#include <cstdio>
#include <cstring>

#include "harness.h"

using namespace llcuda::cuda::test;

namespace {

double measure_copy_gbps() {
    const size_t bytes = size_t(2) << 30;
    void *a = nullptr, *b = nullptr;
    CUDA_OK(cudaMalloc(&a, bytes));
    CUDA_OK(cudaMalloc(&b, bytes));
    CUDA_OK(cudaMemset(a, 1, bytes));
    const double us = time_median_us([&] { cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice); }, 3, 20);
    cudaFree(a);
    cudaFree(b);
    return 2.0 * double(bytes) / (us * 1e3);
}

}  // namespace

int main(int argc, char** argv) {
    const char* filter = argc > 1 ? argv[1] : "";
    cudaDeviceProp prop{};
    CUDA_OK(cudaGetDeviceProperties(&prop, 0));
    const double copy_gbps = measure_copy_gbps();
    std::printf("device: %s, copy bandwidth %.0f GB/s (read + write)\n", prop.name, copy_gbps);
    std::printf("%-12s %-40s %10s %10s %8s %10s %8s\n", "family", "case", "error", "median us", "GB/s", "% copy",
                "TFLOP/s");
    int failures = 0;
    for (const OpCase& c : op_case_registry()) {
        if (*filter && (c.family + " " + c.name).find(filter) == std::string::npos) continue;
        try {
            const CaseResult r = c.run(true);
            const double gbps = r.median_us > 0 ? double(r.bytes) / (r.median_us * 1e3) : 0;
            const double tflops = r.median_us > 0 ? r.flops / (r.median_us * 1e6) : 0;
            const bool ok = r.error <= c.tolerance;
            failures += !ok;
            std::printf("%-12s %-40s %10.2e %10.2f %8.0f %9.1f%% %8.2f%s\n", c.family.c_str(), c.name.c_str(),
                        r.error, r.median_us, gbps, 100.0 * gbps / copy_gbps, tflops, ok ? "" : "  FAIL");
        } catch (const std::exception& e) {
            ++failures;
            std::printf("%-12s %-40s error: %s\n", c.family.c_str(), c.name.c_str(), e.what());
        }
    }
    return failures ? 1 : 0;
}
