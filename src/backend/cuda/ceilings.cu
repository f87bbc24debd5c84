// measure_ceilings (llcuda/devices.h): the two physical limits `llcuda bench` reports speeds
// against, measured on the card rather than taken from a data sheet (boost clocks, HBM parts and
// power limits differ between boards of one model).
//   - copy bandwidth: cudaMemcpy device to device of 2 GiB; read + write bytes over the time,
//     median of 20 after 3 warm-ups (what a decode step streaming weights can hope for);
//   - tensor-core rate: cuBLAS fp16 x fp16 -> fp16 GEMM, fp32 accumulation, 8192^3 on random
//     data (zeros would flatter the power-limited clock), median of 20 after 5 warm-ups.
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "backend/cuda/cuda_check.h"
#include "llcuda/devices.h"
#include "llcuda/error.h"

namespace llcuda {
namespace {

constexpr int kWarmups = 3;
constexpr int kReps = 20;

// Frees on every exit path (measurements throw on any CUDA error).
struct DeviceBuffer {
    void* ptr = nullptr;
    DeviceBuffer() = default;
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    ~DeviceBuffer() {
        if (ptr) cudaFree(ptr);
    }
    // false when the device is out of memory (the caller then tries a smaller size).
    bool allocate(size_t bytes) {
        const cudaError_t err = cudaMalloc(&ptr, bytes);
        if (err == cudaErrorMemoryAllocation) {
            (void)cudaGetLastError();
            ptr = nullptr;
            return false;
        }
        cuda::cuda_check(err, "cudaMalloc");
        return true;
    }
};

struct EventPair {
    cudaEvent_t start = nullptr, stop = nullptr;
    EventPair() {
        CUDA_CHECK(cudaEventCreate(&start));
        CUDA_CHECK(cudaEventCreate(&stop));
    }
    EventPair(const EventPair&) = delete;
    EventPair& operator=(const EventPair&) = delete;
    ~EventPair() {
        cudaEventDestroy(start);
        cudaEventDestroy(stop);
    }
};

struct CublasHandle {
    cublasHandle_t handle = nullptr;
    CublasHandle() {
        const cublasStatus_t st = cublasCreate(&handle);
        if (st != CUBLAS_STATUS_SUCCESS)
            throw Error(ErrorKind::Internal, std::string("cublasCreate failed: ") + cublasGetStatusString(st));
    }
    CublasHandle(const CublasHandle&) = delete;
    CublasHandle& operator=(const CublasHandle&) = delete;
    ~CublasHandle() { cublasDestroy(handle); }
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Milliseconds of `body` (enqueued on the default stream), median over kReps after `warmups`.
template <typename Body>
double median_ms(int warmups, Body&& body) {
    EventPair ev;
    for (int i = 0; i < warmups; ++i) body();
    CUDA_CHECK(cudaDeviceSynchronize());
    std::vector<double> ms;
    for (int i = 0; i < kReps; ++i) {
        CUDA_CHECK(cudaEventRecord(ev.start));
        body();
        CUDA_CHECK(cudaEventRecord(ev.stop));
        CUDA_CHECK(cudaEventSynchronize(ev.stop));
        float t = 0;
        CUDA_CHECK(cudaEventElapsedTime(&t, ev.start, ev.stop));
        ms.push_back(t);
    }
    return median(std::move(ms));
}

// Uniform values in [-1, 1) from a hash of the index (no cuRAND dependency).
__global__ void fill_random_half(__half* x, size_t n, uint64_t seed) {
    for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
        uint64_t z = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        x[i] = __float2half(float(z >> 40) * (2.0f / 16777216.0f) - 1.0f);
    }
}

double copy_gb_per_s() {
    // 2 GiB as in the anchors; halved while memory is short, down to 256 MiB.
    for (size_t bytes = size_t(2) << 30; bytes >= (size_t(256) << 20); bytes /= 2) {
        DeviceBuffer src, dst;
        if (!src.allocate(bytes) || !dst.allocate(bytes)) continue;
        CUDA_CHECK(cudaMemset(src.ptr, 0x5A, bytes));
        CUDA_CHECK(cudaMemset(dst.ptr, 0, bytes));
        const double ms = median_ms(kWarmups, [&] {
            CUDA_CHECK(cudaMemcpyAsync(dst.ptr, src.ptr, bytes, cudaMemcpyDeviceToDevice));
        });
        return 2.0 * double(bytes) / (ms * 1e-3) / 1e9;  // read + write
    }
    throw Error(ErrorKind::OutOfMemory, "measuring copy bandwidth needs 512 MiB of free device memory");
}

double tensor_tflops() {
    for (int n : {8192, 4096}) {
        const size_t elems = size_t(n) * n;
        DeviceBuffer a, b, c;
        if (!a.allocate(elems * 2) || !b.allocate(elems * 2) || !c.allocate(elems * 2)) continue;
        fill_random_half<<<1024, 256>>>(static_cast<__half*>(a.ptr), elems, 1);
        cuda::check_launch("fill_random_half");
        fill_random_half<<<1024, 256>>>(static_cast<__half*>(b.ptr), elems, 2);
        cuda::check_launch("fill_random_half");
        CublasHandle h;
        const float alpha = 1.0f / float(n), beta = 0.0f;  // keeps C in fp16 range
        const auto gemm = [&] {
            const cublasStatus_t st = cublasGemmEx(h.handle, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha, a.ptr, CUDA_R_16F,
                                                   n, b.ptr, CUDA_R_16F, n, &beta, c.ptr, CUDA_R_16F, n,
                                                   CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
            if (st != CUBLAS_STATUS_SUCCESS)
                throw Error(ErrorKind::Internal, std::string("cublasGemmEx failed: ") + cublasGetStatusString(st));
        };
        const double ms = median_ms(5, gemm);
        return 2.0 * double(n) * n * n / (ms * 1e-3) / 1e12;
    }
    throw Error(ErrorKind::OutOfMemory, "measuring the tensor-core rate needs 96 MiB of free device memory");
}

}  // namespace

DeviceCeilings measure_ceilings(int device) {
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess || count == 0) {
        (void)cudaGetLastError();
        throw Error(ErrorKind::Unsupported, std::string("no usable CUDA device: ") +
                                                (err != cudaSuccess ? cudaGetErrorString(err) : "none found"));
    }
    if (device < 0 || device >= count)
        throw Error(ErrorKind::InvalidArgument,
                    "CUDA device " + std::to_string(device) + " does not exist (" + std::to_string(count) + " found)");
    CUDA_CHECK(cudaSetDevice(device));
    cudaDeviceProp prop{};
    CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    DeviceCeilings c;
    c.device_name = prop.name;
    c.copy_gb_per_s = copy_gb_per_s();
    c.tensor_tflops = tensor_tflops();
    return c;
}

}  // namespace llcuda
