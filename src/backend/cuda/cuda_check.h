// Turning CUDA runtime status codes into llcuda::Error. Every runtime call in the CUDA backend goes
// through CUDA_CHECK, and every kernel launch is followed by check_launch, so a failure surfaces
// as an exception naming the call (or kernel) and the driver's own text, never as a crash later.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "llcuda/error.h"

namespace llcuda::cuda {

// Throws when `err` is not cudaSuccess. An allocation failure is OutOfMemory (the caller can react,
// e.g. by choosing a smaller context); anything else is Internal. `what` names the failed call.
inline void cuda_check(cudaError_t err, const char* what) {
    if (err == cudaSuccess) return;
    // Clear the non-sticky error state so that the next call does not report this one again.
    (void)cudaGetLastError();
    const ErrorKind kind = err == cudaErrorMemoryAllocation ? ErrorKind::OutOfMemory : ErrorKind::Internal;
    throw Error(kind, std::string("CUDA error in ") + what + ": " + cudaGetErrorName(err) + " (" +
                          cudaGetErrorString(err) + ")");
}

// Checks that the last kernel launch was accepted (bad configuration, too many resources, no
// kernel image for this GPU). It does not wait for the kernel, so it is safe in graph capture.
inline void check_launch(const char* kernel_name) {
    const cudaError_t err = cudaGetLastError();
    if (err == cudaSuccess) return;
    throw Error(ErrorKind::Internal, std::string("CUDA kernel launch failed: ") + kernel_name + ": " +
                                         cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")");
}

}  // namespace llcuda::cuda

#define CUDA_CHECK(x) ::llcuda::cuda::cuda_check((x), #x)
