// Bit-level helpers of the kernels that build mma A fragments from 4-bit tile-layout codes
// (matvec_tile.cu, gemm_tile4.cu; the layout is in matmul_layout.h).
#pragma once

#include <cuda_fp16.h>

#include <cstdint>
#include <cstring>

namespace llcuda::cuda {

__device__ __forceinline__ uint32_t h2u(__half2 h) {
    uint32_t u;
    memcpy(&u, &h, 4);
    return u;
}
__device__ __forceinline__ __half2 u2h(uint32_t u) {
    __half2 h;
    memcpy(&h, &u, 4);
    return h;
}
__device__ __forceinline__ uint32_t word(const uint4& v, int i) {
    return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
}

// 1024 + field for two fields placed at bits 0..9 and 16..25 (the f16 exponent of 1024 OR-ed in):
// (w & mask) | 0x64006400 as one LOP3 (left to itself the compiler emits two).
__device__ __forceinline__ __half2 magic1024(uint32_t w, uint32_t mask) {
    uint32_t d;
    asm("lop3.b32 %0, %1, %2, %3, 0xEA;" : "=r"(d) : "r"(w), "r"(mask), "r"(0x64006400u));
    return u2h(d);
}

}  // namespace llcuda::cuda
