// What the matrix-vector kernels share to keep DRAM busy from their first cycle to their last:
//
//  * Programmatic dependent launch (PDL, sm_90): the kernels are launched with
//    cudaLaunchAttributeProgrammaticStreamSerialization, so a kernel may start while the one
//    before it in the stream is still finishing. Until pdl_wait() returns (the previous kernel has
//    completed and its writes are visible) a kernel only reads weights, which no kernel writes: it
//    issues its first weight loads and L2 prefetches, then waits, then reads x and writes y. Right
//    after the wait it calls pdl_launch_dependents(), so that the next kernel (if it was launched
//    the same way) can start prefetching its own weights on the SMs this one frees. On a kernel
//    launched without the attribute, and before sm_90, both calls do nothing.
//  * L2 prefetch (tile kernel, off by default: it measured slower, docs/cuda-kernels.md): a warp
//    asks for the weight bytes it will read a few steps later (sm_90: one
//    cp.async.bulk.prefetch.L2 per range, issued by one lane; before: prefetch.global.L2 per line).
//
// Tuning knobs, read once from the environment (for measurements; the defaults are the measured
// best): LLCUDA_PDL=0 turns PDL off, LLCUDA_MV_PF sets the tile kernel's prefetch distance in
// units (0: none), LLCUDA_MV_CPS its CTAs per SM (0: one CTA per row-tile group, no persistence), LLCUDA_MV_EVEN
// how evenly (0..1, relative to the best) its row-tile groups must fill that grid,
// LLCUDA_MV_STAGE=0 makes the rows kernel read x through L1 instead of staging it.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <cstdlib>
#include <utility>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/matmul_internal.h"

namespace llcuda::cuda {

__device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}
__device__ __forceinline__ void pdl_launch_dependents() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// Asks L2 for [p, p + bytes): p and bytes multiples of 16 (one lane calls it).
__device__ __forceinline__ void prefetch_l2_bulk(const void* p, uint32_t bytes) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("cp.async.bulk.prefetch.L2.global [%0], %1;" ::"l"(p), "r"(bytes) : "memory");
#else
    for (uint32_t o = 0; o < bytes; o += 128)
        asm volatile("prefetch.global.L2 [%0];" ::"l"(static_cast<const char*>(p) + o));
#endif
}

struct StreamKnobs {
    bool pdl = true;        // launch with programmatic stream serialization (sm_90+)
    int tile_prefetch = 0;  // tile kernel: units ahead a warp prefetches to L2
    int tile_cps = 2;       // tile kernel: CTAs per SM of the persistent grid (0: one CTA per row-tile group)
    float tile_even = 0.85f; // tile kernel: the largest tiles per CTA whose grid fill is this close to the best
    bool rows_stage = true; // rows kernel: x staged in shared memory when it fits
};

inline const StreamKnobs& stream_knobs() {
    static const StreamKnobs k = [] {
        StreamKnobs s;
        auto env_int = [](const char* name, int def) {
            const char* v = std::getenv(name);
            return v && *v ? std::atoi(v) : def;
        };
        // The device must be sm_90+ and run sm_90 code: a build without sm_90 runs compute_80 PTX
        // there, whose pdl_wait is empty, and a PDL launch would then race with the kernel before.
        s.pdl = env_int("LLCUDA_PDL", 1) != 0 && device_limits().cc_major >= 9 && device_limits().code_arch >= 900;
        s.tile_prefetch = env_int("LLCUDA_MV_PF", s.tile_prefetch);
        s.rows_stage = env_int("LLCUDA_MV_STAGE", 1) != 0;
        s.tile_cps = env_int("LLCUDA_MV_CPS", s.tile_cps);
        if (const char* v = std::getenv("LLCUDA_MV_EVEN"); v && *v) s.tile_even = float(std::atof(v));
        return s;
    }();
    return k;
}

// kernel<<<grid, block, smem, stream>>>(args...), with programmatic stream serialization when pdl
// is true; throws on a bad launch.
template <class... KArgs, class... Args>
void launch_kernel_pdl(bool pdl, void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t smem, cudaStream_t stream,
                       const char* name, Args&&... args) {
    cudaLaunchConfig_t cfg{};
    cfg.gridDim = grid;
    cfg.blockDim = block;
    cfg.dynamicSmemBytes = smem;
    cfg.stream = stream;
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    cfg.attrs = attr;
    cfg.numAttrs = pdl ? 1 : 0;
    const cudaError_t err = cudaLaunchKernelEx(&cfg, kernel, std::forward<Args>(args)...);
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        cuda_check(err, name);
    }
    check_launch(name);
}

// launch_kernel_pdl with PDL when enabled (LLCUDA_PDL, sm_90+).
template <class... KArgs, class... Args>
void launch_stream_kernel(void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t smem, cudaStream_t stream,
                          const char* name, Args&&... args) {
    launch_kernel_pdl(stream_knobs().pdl, kernel, grid, block, smem, stream, name, std::forward<Args>(args)...);
}

// PDL for the tensor-core GEMM kernels of 9+ tokens (gemm_tile4, gemm_rows: batched decode and
// short chunks), where PDL is enabled at all; LLCUDA_PDL_GEMM=0 launches them without it, for A/B runs.
inline bool gemm_pdl() {
    static const bool on = [] {
        const char* v = std::getenv("LLCUDA_PDL_GEMM");
        return !(v && *v && std::atoi(v) == 0);
    }();
    return on && stream_knobs().pdl;
}

}  // namespace llcuda::cuda
