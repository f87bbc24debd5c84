// GPU enumeration through the CUDA runtime. A missing driver or no device is a normal answer
// (status text, empty list), not an error: the CPU path still works.
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <string>

#include "llcuda/devices.h"

namespace llcuda {

namespace {

// The runtime reports a machine with no NVIDIA driver at all as "driver version is insufficient";
// say what is really missing, so that a CPU-only machine is not told to upgrade a driver it lacks.
std::string driver_problem(cudaError_t err) {
    if (err == cudaErrorNoDevice) return "no NVIDIA GPU was found";
    if (err == cudaErrorInsufficientDriver) {
        void* driver = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
        if (!driver) return "no NVIDIA driver is installed (libcuda.so.1 cannot be loaded)";
        dlclose(driver);
        return std::string(cudaGetErrorString(err)) + " (update the NVIDIA driver)";
    }
    return cudaGetErrorString(err);
}

}  // namespace

GpuQuery query_gpus() {
    GpuQuery query;
    query.cuda_built = true;
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        query.status = std::string("no usable CUDA device: ") + driver_problem(err);
        cudaGetLastError();  // clear the sticky error so later calls start clean
        return query;
    }
    for (int i = 0; i < count; ++i) {
        cudaDeviceProp prop{};
        if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
        GpuDevice d;
        d.index = i;
        d.name = prop.name;
        d.compute_major = prop.major;
        d.compute_minor = prop.minor;
        d.n_multiprocessors = prop.multiProcessorCount;
        d.total_memory = prop.totalGlobalMem;
        size_t free_bytes = 0, total_bytes = 0;
        if (cudaSetDevice(i) == cudaSuccess && cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
            d.free_memory = free_bytes;
        }
        query.devices.push_back(std::move(d));
    }
    query.status = std::to_string(query.devices.size()) + " CUDA device(s)";
    return query;
}

}  // namespace llcuda
