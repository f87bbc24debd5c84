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

// The physical limits `llcuda bench` compares its speeds with (docs/bench.md), measured on the card:
// device-to-device copy bandwidth (2 GiB copied, read and write bytes counted, median of 20) and
// the fp16 tensor-core rate of a cuBLAS 8192^3 GEMM with fp32 accumulation (median of 20).
struct DeviceCeilings {
    double copy_gb_per_s = 0;   // 1e9 bytes per second
    double tensor_tflops = 0;   // 1e12 floating-point operations per second
    std::string device_name;
};

// Takes about a second and ~4.5 GiB of free device memory (less is used when less is free).
// Throws llcuda::Error: Unsupported in a build without CUDA or without a usable device,
// InvalidArgument for a device index that does not exist.
DeviceCeilings measure_ceilings(int device = 0);

}  // namespace llcuda
