// Which GPUs llcuda can use. Works in every build: a CPU-only build or a machine without a driver
// answers with no devices and a status line saying why.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llcuda {

struct GpuDevice {
    int index = 0;
    std::string name;
    int compute_major = 0;      // compute capability, e.g. 9.0 for H100, 7.5 for T4
    int compute_minor = 0;
    int n_multiprocessors = 0;
    uint64_t total_memory = 0;  // bytes
    uint64_t free_memory = 0;   // bytes, at query time
};

struct GpuQuery {
    bool cuda_built = false;    // the CUDA backend was compiled into this build
    std::string status;         // "2 CUDA devices", "built without CUDA", the driver's error ...
    std::vector<GpuDevice> devices;
};

GpuQuery query_gpus();

}  // namespace llcuda
