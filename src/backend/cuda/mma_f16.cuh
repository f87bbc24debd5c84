// One warp-wide f16 x f16 -> f32 tensor-core product of a 16x16 A tile and a 16x8 B tile
// (mma.m16n8k16, sm_80+), with the sm_75 equivalent (two m16n8k8) beside it.
//
// Fragments (lane = 4g + t):
//   A: a[0] = row g,   cols 2t..2t+1     a[1] = row g+8, cols 2t..2t+1
//      a[2] = row g,   cols 2t+8..2t+9   a[3] = row g+8, cols 2t+8..2t+9   (low half = lower column)
//   B: b0 = rows(k) 2t..2t+1 of column g, b1 = rows 2t+8..2t+9 of column g
//   C: c[0], c[1] = row g, columns 2t, 2t+1;  c[2], c[3] = row g+8, columns 2t, 2t+1
#pragma once

#include <cstdint>

namespace llcuda::cuda {

__device__ __forceinline__ void mma_f16_16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#else
    // sm_75: k = 0..7 with (a[0], a[1], b0), then k = 8..15 with (a[2], a[3], b1).
    asm("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(b0));
    asm("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, {%6}, {%0,%1,%2,%3};"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[2]), "r"(a[3]), "r"(b1));
#endif
}

}  // namespace llcuda::cuda
