// Dequantization of a band of a Q4_0 / Q4_K tile-layout matrix into dense f16 rows, for the
// dequantize-then-cuBLAS path that large token counts take (matmul.cu). One warp per 512-byte
// chunk (16 rows x 64 columns): each lane decodes its 16 bytes (the values of rows g and g+8 at
// columns 2t, 2t+1, 2t+8, 2t+9 of each k16-step, see tile4_nibble), writes them as f16 pairs
// into a padded shared-memory tile, and the warp then stores the 16 rows as whole 128-byte lines.
// Values are computed in f32 as the CPU dequantizer does (Q4_0: d (q - 8); Q4_K: d sc q - dmin m)
// and rounded to f16 once.
#include <cuda_fp16.h>

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/dequant.cuh"
#include "backend/cuda/matmul_internal.h"
#include "backend/cuda/matmul_layout.h"

namespace llcuda::cuda {
namespace {

constexpr int kWarps = 8;
constexpr uint32_t kRowWords = 36;  // 64 halves + 8 of padding: lane (g, t) writes word 4g + t (mod 32)

template <bool Q4K>
__global__ void __launch_bounds__(kWarps * 32) dequant_tile4_kernel(const uint8_t* __restrict__ quant,
                                                                   const uint8_t* __restrict__ side, uint32_t n_c,
                                                                   uint32_t n_rows, uint32_t n_cols, uint32_t rt0,
                                                                   uint32_t n_rt_band, __half* __restrict__ out) {
    __shared__ __align__(16) uint32_t tile[kWarps][16 * kRowWords];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    const uint64_t n_work = uint64_t(n_rt_band) * n_c;
    for (uint64_t wi = uint64_t(blockIdx.x) * kWarps + warp; wi < n_work; wi += uint64_t(gridDim.x) * kWarps) {
        const uint32_t rtl = uint32_t(wi / n_c), c = uint32_t(wi % n_c), rt = rt0 + rtl;
        const uint4 q = __ldg(reinterpret_cast<const uint4*>(quant + (uint64_t(rt) * n_c + c) * kTileChunkBytes + lane * 16));
        // scale and offset of rows g (r = 0) and g+8 (r = 1), for the chunk's two 32-column blocks
        float mul[2][2], add[2][2];
        if constexpr (Q4K) {
            const uint8_t* head = side + (uint64_t(rt) * (n_c / 4) + c / 4) * kTileQ4_KHeadBytes;
#pragma unroll
            for (int r = 0; r < 2; ++r) {
                const uint8_t* h = head + (g + 8 * r) * 16;
                const float d = f16_bits_to_f32(ld_u16(h)), dmin = f16_bits_to_f32(ld_u16(h + 2));
#pragma unroll
                for (int bh = 0; bh < 2; ++bh) {
                    int sc, m;
                    k4_scale_min_dev(h + 4, int((c % 4) * 2 + bh), sc, m);
                    mul[r][bh] = d * float(sc);
                    add[r][bh] = -dmin * float(m);
                }
            }
        } else {
            const uint8_t* sc = side + (uint64_t(rt) * n_c + c) * kTileQ4_0ScaleBytes;
#pragma unroll
            for (int r = 0; r < 2; ++r)
#pragma unroll
                for (int bh = 0; bh < 2; ++bh) {
                    const float d = f16_bits_to_f32(ld_u16(sc + tile4_q4_0_scale(uint32_t(g + 8 * r), uint32_t(bh))));
                    mul[r][bh] = d;
                    add[r][bh] = -8.0f * d;
                }
        }
        uint32_t* tw = tile[warp];
#pragma unroll
        for (int s = 0; s < 4; ++s) {
            const uint32_t w = s == 0 ? q.x : s == 1 ? q.y : s == 2 ? q.z : q.w;
            const int bh = s >> 1;
            // nibble p at bits 4p: p0 (g, 2t) p1 (g+8, 2t) p2 (g, 2t+8) p3 (g+8, 2t+8), p4..p7 the same at 2t+1 / 2t+9
#pragma unroll
            for (int p = 0; p < 4; ++p) {
                const int r = p & 1, plus8 = p >> 1;
                const float v0 = float((w >> (4 * p)) & 0xF) * mul[r][bh] + add[r][bh];
                const float v1 = float((w >> (4 * p + 16)) & 0xF) * mul[r][bh] + add[r][bh];
                const __half2 h = __floats2half2_rn(v0, v1);
                uint32_t u;
                memcpy(&u, &h, 4);
                tw[(g + 8 * r) * kRowWords + 8 * s + 4 * plus8 + t] = u;  // columns 16s + 8 plus8 + 2t, +1
            }
        }
        __syncwarp();
        // 16 rows x 128 bytes in 4 stores per lane: store i covers rows 4i .. 4i + 3, 8 lanes per row,
        // so each warp store writes 4 whole 128-byte lines. (Lane -> row lane / 2 wrote 16 bytes
        // into each of 2 sectors of 16 lines per store: partial sectors, and 2.1 TB/s for this
        // kernel against 2.8 TB/s for the rows-layout decoder's contiguous stores on the H200.)
        const uint32_t piece = lane & 7;  // 16-byte piece of the row (8 halves)
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            const uint32_t rr = uint32_t(4 * i) + (lane >> 3);
            const uint64_t row = uint64_t(rt) * 16 + rr;
            if (row >= n_rows) continue;
            const uint32_t col = c * 64 + piece * 8;
            __half* dst = out + (row - uint64_t(rt0) * 16) * n_cols + col;
            const uint32_t* src = tw + rr * kRowWords + piece * 4;  // 144-byte rows: 16-byte aligned
            if (col + 8 <= n_cols && n_cols % 8 == 0) {
                *reinterpret_cast<uint4*>(dst) = *reinterpret_cast<const uint4*>(src);
            } else {
                const __half* hs = reinterpret_cast<const __half*>(src);
                for (uint32_t k = 0; k < 8 && col + k < n_cols; ++k) dst[k] = hs[k];
            }
        }
        __syncwarp();
    }
}

}  // namespace

void dequant_tile4_f16(const DeviceMatrix& w, uint64_t row0, uint64_t n, __half* out, cudaStream_t stream) {
    if (row0 % kTileRows != 0) throw Error(ErrorKind::Internal, "dequant_tile4_f16: band start not a multiple of 16 rows");
    const uint32_t n_c = uint32_t(tile4_chunks(w.n_cols));
    const uint32_t rt0 = uint32_t(row0 / kTileRows);
    const uint32_t n_rt_band = uint32_t((n + kTileRows - 1) / kTileRows);
    const uint64_t work = uint64_t(n_rt_band) * n_c;
    const unsigned blocks = unsigned(std::min<uint64_t>((work + kWarps - 1) / kWarps, uint64_t(device_limits().sm_count) * 16));
    const uint32_t rows_end = uint32_t(std::min<uint64_t>(w.n_rows, row0 + n));
    if (w.type == GgmlType::Q4_K)
        dequant_tile4_kernel<true><<<blocks, kWarps * 32, 0, stream>>>(w.data, w.data + w.aux_offset, n_c, rows_end,
                                                                       uint32_t(w.n_cols), rt0, n_rt_band, out);
    else
        dequant_tile4_kernel<false><<<blocks, kWarps * 32, 0, stream>>>(w.data, w.data + w.aux_offset, n_c, rows_end,
                                                                        uint32_t(w.n_cols), rt0, n_rt_band, out);
    check_launch("dequant_tile4_kernel");
}

}  // namespace llcuda::cuda
