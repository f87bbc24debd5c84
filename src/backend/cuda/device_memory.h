// Owning handles for device and pinned host memory. An allocation that fails is an OutOfMemory
// error naming what it was for, how much it asked for and how much the device had free.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "llcuda/error.h"

namespace llcuda::cuda {

class DeviceBuffer {
public:
    DeviceBuffer() = default;
    DeviceBuffer(uint64_t bytes, const char* what) : bytes_(bytes) {
        if (bytes == 0) return;
        const cudaError_t err = cudaMalloc(&p_, bytes);
        if (err != cudaSuccess) {
            (void)cudaGetLastError();
            size_t free_bytes = 0, total = 0;
            cudaMemGetInfo(&free_bytes, &total);
            throw Error(ErrorKind::OutOfMemory, fmt::format("cannot allocate {:.1f} MiB of GPU memory for the {} "
                                                            "({:.1f} MiB free of {:.1f} MiB): {}",
                                                            double(bytes) / (1 << 20), what, double(free_bytes) / (1 << 20),
                                                            double(total) / (1 << 20), cudaGetErrorString(err)));
        }
    }
    ~DeviceBuffer() { reset(); }
    DeviceBuffer(DeviceBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), bytes_(o.bytes_) {}
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
        if (this != &o) {
            reset();
            p_ = std::exchange(o.p_, nullptr);
            bytes_ = o.bytes_;
        }
        return *this;
    }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;

    void* get() const { return p_; }
    uint64_t bytes() const { return bytes_; }

private:
    void reset() {
        if (p_) cudaFree(p_);
        p_ = nullptr;
    }
    void* p_ = nullptr;
    uint64_t bytes_ = 0;
};

// Page-locked host memory, so that host-to-device copies are truly asynchronous.
class PinnedBuffer {
public:
    PinnedBuffer() = default;
    explicit PinnedBuffer(uint64_t bytes) {
        if (cudaMallocHost(&p_, bytes) != cudaSuccess) {
            (void)cudaGetLastError();
            throw Error(ErrorKind::OutOfMemory, fmt::format("cannot allocate {} bytes of pinned host memory", bytes));
        }
    }
    ~PinnedBuffer() {
        if (p_) cudaFreeHost(p_);
    }
    PinnedBuffer(PinnedBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
        if (this != &o) {
            if (p_) cudaFreeHost(p_);
            p_ = std::exchange(o.p_, nullptr);
        }
        return *this;
    }
    PinnedBuffer(const PinnedBuffer&) = delete;
    PinnedBuffer& operator=(const PinnedBuffer&) = delete;
    void* get() const { return p_; }

private:
    void* p_ = nullptr;
};

}  // namespace llcuda::cuda
