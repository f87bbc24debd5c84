// Dequantization of a band of rows into a dense f16 or f32 scratch matrix, for the GEMM path.
//  * Rows layout: items decoded with the matrix-vector kernels' per-type traits (matvec_rows.cuh:
//    codes to floats without I2F, one scale and offset per segment), 8 values per thread.
//  * Tile layout (Q4_0, Q4_K) to f16: the chunk-wise decoder of dequant_tile4.cu.
//  * Anything else (tile layout to f32): value by value (decode_dispatch.cuh), 8 values a thread.
#include <cuda_fp16.h>

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/decode_dispatch.cuh"
#include "backend/cuda/matvec_rows.cuh"
#include "backend/cuda/matmul_layout.h"

namespace llcuda::cuda {
namespace {

template <class Dec, class Out>
__global__ void dequant_rows_kernel(Dec dec, uint64_t row0, uint64_t n_rows, uint32_t n_cols, Out* __restrict__ out) {
    const uint32_t groups = (n_cols + 7) / 8;
    const uint64_t total = n_rows * groups;
    for (uint64_t i = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += uint64_t(gridDim.x) * blockDim.x) {
        const uint64_t r = i / groups;
        const uint32_t c0 = uint32_t(i % groups) * 8;
        Out* dst = out + r * n_cols + c0;
        if constexpr (sizeof(Out) == 2) {
            if (c0 + 8 <= n_cols && n_cols % 8 == 0) {
                uint32_t wv[4];
#pragma unroll
                for (int k = 0; k < 4; ++k) {
                    const __half2 h2 = __floats2half2_rn(dec(row0 + r, c0 + 2 * k), dec(row0 + r, c0 + 2 * k + 1));
                    memcpy(&wv[k], &h2, 4);
                }
                *reinterpret_cast<uint4*>(dst) = make_uint4(wv[0], wv[1], wv[2], wv[3]);
                continue;
            }
        }
        for (uint32_t k = 0; k < 8 && c0 + k < n_cols; ++k) {
            const float v = dec(row0 + r, c0 + k);
            if constexpr (sizeof(Out) == 2) dst[k] = __float2half_rn(v);
            else dst[k] = v;
        }
    }
}

// One thread per group of 8 consecutive values (4 for f32 rows) of an item, so that consecutive
// threads write consecutive 16-byte pieces (one item per thread wrote 8-byte pieces 32 bytes
// apart: a quarter of each sector per store, slower than the value-by-value decoder it replaced).
// The item is loaded by each of its threads (L1 hits). Out row r = matrix row row0 + r.
template <GgmlType T, class Out>
__global__ void dequant_items_kernel(const uint8_t* __restrict__ quant, const uint8_t* __restrict__ side, uint64_t nb,
                                     uint64_t row0, uint64_t n_rows, uint32_t n_cols, Out* __restrict__ out) {
    using Tr = rows::Traits<T>;
    constexpr RowsGeom G = rows_geom(T);
    constexpr int kGroup = Tr::kSegLen < 8 ? Tr::kSegLen : 8;           // values per thread
    constexpr int kGroupsPerItem = Tr::kNSeg * (Tr::kSegLen / kGroup);
    const uint64_t units_per_row = nb * Tr::kIPB * kGroupsPerItem;
    const uint64_t total = n_rows * units_per_row;
    for (uint64_t i = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += uint64_t(gridDim.x) * blockDim.x) {
        const uint64_t r = i / units_per_row, in_row = i - r * units_per_row;
        const uint64_t item = in_row / kGroupsPerItem;
        const int grp = int(in_row % kGroupsPerItem);
        const int seg = grp / (Tr::kSegLen / kGroup), part = grp % (Tr::kSegLen / kGroup);
        const uint64_t b = item / Tr::kIPB;
        const int sub = int(item % Tr::kIPB);
        const uint64_t blk = (row0 + r) * nb + b;
        const rows::Item it = Tr::load(quant + blk * G.qb, side + blk * G.sb, sub);
        float mul = 1.0f, add = 0.0f;
        if constexpr (!Tr::kUnscaled) Tr::scale(it, sub, seg, mul, add);
        if constexpr (!Tr::kHasMin) add = 0.0f;  // scale() need not set it then
        float v[kGroup];
#pragma unroll
        for (int k4 = 0; k4 < kGroup / 4; ++k4) {
            const float4 c = Tr::codes(it, sub, seg, part * (kGroup / 4) + k4);
            v[4 * k4 + 0] = fmaf(c.x, mul, add);
            v[4 * k4 + 1] = fmaf(c.y, mul, add);
            v[4 * k4 + 2] = fmaf(c.z, mul, add);
            v[4 * k4 + 3] = fmaf(c.w, mul, add);
        }
        const uint32_t col = uint32_t(b) * G.elems + uint32_t(Tr::seg_col(sub, seg)) + uint32_t(part * kGroup);
        Out* dst = out + r * n_cols + col;
        if (col + kGroup <= n_cols && n_cols % kGroup == 0) {  // col is a multiple of kGroup: aligned
            if constexpr (sizeof(Out) == 2) {
                uint32_t u[kGroup / 2];
#pragma unroll
                for (int k = 0; k < kGroup / 2; ++k) {
                    const __half2 h = __floats2half2_rn(v[2 * k], v[2 * k + 1]);
                    memcpy(&u[k], &h, 4);
                }
                if constexpr (kGroup == 8) *reinterpret_cast<uint4*>(dst) = make_uint4(u[0], u[1], u[2], u[3]);
                else *reinterpret_cast<uint2*>(dst) = make_uint2(u[0], u[1]);
            } else {
#pragma unroll
                for (int k4 = 0; k4 < kGroup / 4; ++k4)
                    reinterpret_cast<float4*>(dst)[k4] = make_float4(v[4 * k4], v[4 * k4 + 1], v[4 * k4 + 2], v[4 * k4 + 3]);
            }
        } else {
            for (uint32_t k = 0; k < uint32_t(kGroup) && col + k < n_cols; ++k) {
                if constexpr (sizeof(Out) == 2) dst[k] = __float2half_rn(v[k]);
                else dst[k] = v[k];
            }
        }
    }
}

template <class Out>
void dequant_rows(const DeviceMatrix& w, uint64_t row0, uint64_t n, Out* out, cudaStream_t stream) {
    if (w.layout == kLayoutRows) {
        dispatch_decoder(w, [&](auto type_tag, auto tile_tag) {
            if constexpr (!decltype(tile_tag)::value) {  // (the tile instances exist only for the switch)
                constexpr GgmlType T = decltype(type_tag)::value;
                using Tr = rows::Traits<T>;
                const uint64_t nb = rows_blocks_per_row(T, w.n_cols);
                const uint64_t work = n * nb * Tr::kIPB * Tr::kNSeg * (Tr::kSegLen / (Tr::kSegLen < 8 ? Tr::kSegLen : 8));
                const unsigned blocks =
                    unsigned(std::min<uint64_t>((work + 255) / 256, uint64_t(device_limits().sm_count) * 32));
                dequant_items_kernel<T, Out><<<blocks, 256, 0, stream>>>(w.data, w.data + w.aux_offset, nb, row0, n,
                                                                        uint32_t(w.n_cols), out);
                check_launch("dequant_items_kernel");
            }
        });
        return;
    }
    dispatch_decoder(w, [&](auto type_tag, auto tile_tag) {
        using Dec = MatrixDecoder<decltype(type_tag)::value, decltype(tile_tag)::value>;
        const uint64_t work = n * ((w.n_cols + 7) / 8);
        const unsigned blocks = unsigned(std::min<uint64_t>((work + 255) / 256, uint64_t(device_limits().sm_count) * 32));
        dequant_rows_kernel<Dec, Out><<<blocks, 256, 0, stream>>>(Dec(w), row0, n, uint32_t(w.n_cols), out);
        check_launch("dequant_rows_kernel");
    });
}

}  // namespace

void dequant_rows_f16(const DeviceMatrix& w, uint64_t row0, uint64_t n, void* out, cudaStream_t stream) {
    if (w.layout == kLayoutTile4 && row0 % kTileRows == 0) {  // whole chunks at a time (dequant_tile4.cu)
        dequant_tile4_f16(w, row0, n, static_cast<__half*>(out), stream);
        return;
    }
    dequant_rows(w, row0, n, static_cast<__half*>(out), stream);
}

void dequant_rows_f32(const DeviceMatrix& w, uint64_t row0, uint64_t n, float* out, cudaStream_t stream) {
    dequant_rows(w, row0, n, out, stream);
}

}  // namespace llcuda::cuda
