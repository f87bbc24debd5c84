// GPU enumeration through the CUDA runtime. A missing driver or no device is a normal answer
// (status text, empty list), not an error: the CPU path still works.
#include <cuda_runtime.h>

#include <string>

#include "llcuda/devices.h"

namespace llcuda {

GpuQuery query_gpus() {
    GpuQuery query;
    query.cuda_built = true;
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        query.status = std::string("no usable CUDA device: ") + cudaGetErrorString(err);
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
