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

// Two fields placed at bits 0..9 and 16..25 as the mantissas of an f16 pair whose exponents are
// those of `exps` (its mantissa bits zero): (w & mask) | exps as one LOP3 (left to itself the
// compiler emits two). With exps = 2^e in a half, that half is 2^e + field * 2^(e - 10).
__device__ __forceinline__ __half2 fields_as_mantissas(uint32_t w, uint32_t mask, uint32_t exps) {
    uint32_t d;
    asm("lop3.b32 %0, %1, %2, %3, 0xEA;" : "=r"(d) : "r"(w), "r"(mask), "r"(exps));
    return u2h(d);
}
// 1024 + field for two fields placed at bits 0..9 and 16..25.
__device__ __forceinline__ __half2 magic1024(uint32_t w, uint32_t mask) { return fields_as_mantissas(w, mask, 0x64006400u); }

}  // namespace llcuda::cuda
