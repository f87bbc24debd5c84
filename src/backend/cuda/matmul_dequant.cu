// Dequantization of a band of rows into a dense f16 or f32 scratch matrix, for the GEMM path.
//  * Rows layout: items decoded with the matrix-vector kernels' per-type traits (matvec_rows.cuh:
//    codes to floats without I2F, one scale and offset per segment), a whole item per thread,
//    staged per warp in shared memory and stored as contiguous 16-byte pieces.
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

// Rows layout: one warp per (row, chunk of 32 * kU consecutive items). Each lane decodes whole
// items (every segment: loads each quant byte once), lane L taking item L of each 32-item
// sub-tile; the sub-tile's values (32 * kV consecutive columns: it starts on a block boundary, as
// kIPB divides 32) go into the warp's shared-memory tile in column order, and the warp then
// stores the tile as consecutive 16-byte pieces (512 contiguous bytes per warp store). Direct
// stores were either strided (an item's segments lie 16..64 columns apart in the K-quants) or,
// with several threads per item, re-loaded every item 2..8 times and left the kernel at 1.2 TB/s
// (Q6_K 28672x4096, H200). All index math is 32-bit with power-of-two divisors; the row's block
// offset is formed once per warp in 64 bits. The loads of all kU sub-tiles are issued before the
// first is decoded. Values: fmaf(code, mul, add) with the traits' scale, rounded once (f16) or
// kept (f32), as before.
template <GgmlType T, class Out>
struct ItemsGeom {
    using Tr = rows::Traits<T>;
    static constexpr uint32_t kV = Tr::kNSeg * Tr::kSegLen;      // values per item
    static constexpr uint32_t kVpu = 16 / sizeof(Out);            // values per 16-byte unit
    static constexpr uint32_t kP = Tr::kSegLen < kVpu ? Tr::kSegLen : kVpu;  // values per shared store
    static constexpr uint32_t kUnits = 32 * kV / kVpu;            // 16-byte units of a warp's tile (>= 16)
    static constexpr uint32_t kU = kV <= 8 ? 4 : 2;               // sub-tiles per warp and chunk
    static constexpr uint32_t kWarps = kUnits * 16 <= 4096 ? 8 : 4;  // static shared memory <= 32 KB
    static_assert(rows_geom(T).elems == Tr::kIPB * kV && 32 % Tr::kIPB == 0, "a sub-tile of 32 items is whole blocks");
    static_assert(kUnits % 8 == 0 && Tr::kSegLen % kP == 0 && kP % 4 == 0, "swizzle groups, store widths");
};

// Shared tile address of 16-byte unit u: u ^ f(u / 8) permutes each aligned group of 8 units (the
// read-out, 8 consecutive units per quarter-warp, stays conflict-free), and f is chosen so that the
// decode stores of every type are conflict-free too for f16 (a quarter-warp's 8 items write 8
// different bank groups; checked by enumeration over all types' seg_col: without it Q6_K was
// 2-way, the 32-value blocks 4-way). For f32 only Q5_K stays 2-way.
__device__ __forceinline__ uint32_t swizzle_unit(uint32_t u) {
    const uint32_t x = u >> 3;
    return u ^ ((x ^ (x >> 1) ^ (x >> 2) ^ (x << 2)) & 7u);
}

// Out row r = matrix row row0 + r; grid (ceil(n_rows / kWarps), chunks or up to 65535 of them).
template <GgmlType T, class Out>
__global__ void __launch_bounds__(ItemsGeom<T, Out>::kWarps * 32)
    dequant_items_kernel(const uint8_t* __restrict__ quant, const uint8_t* __restrict__ side, uint32_t nb,
                         uint64_t row0, uint32_t n_rows, uint32_t n_cols, Out* __restrict__ out) {
    using Tr = rows::Traits<T>;
    using D = ItemsGeom<T, Out>;
    constexpr RowsGeom G = rows_geom(T);
    constexpr uint32_t kChunk = 32 * D::kU;  // items
    __shared__ __align__(16) uint4 tiles[D::kWarps][D::kUnits];

    const uint32_t warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const uint32_t r = blockIdx.x * D::kWarps + warp;
    if (r >= n_rows) return;  // whole warps: only __syncwarp below
    const uint64_t blk_row = (row0 + r) * nb;
    const uint8_t* qrow = quant + blk_row * G.qb;
    const uint8_t* srow = side + blk_row * G.sb;
    Out* orow = out + uint64_t(r) * n_cols;
    uint8_t* tile = reinterpret_cast<uint8_t*>(tiles[warp]);
    const uint32_t ipr = nb * Tr::kIPB;  // items per row
    const uint32_t n_chunks = (ipr + kChunk - 1) / kChunk;
    const int sub = int(lane % Tr::kIPB);                  // the same in every sub-tile (32 % kIPB == 0)
    const uint32_t lane_col = (lane / Tr::kIPB) * G.elems;  // the lane's block within a sub-tile
    const bool vec_ok = n_cols % D::kVpu == 0;              // rows start 16-byte aligned

    for (uint32_t chunk = blockIdx.y; chunk < n_chunks; chunk += gridDim.y) {
        rows::Item it[D::kU];
#pragma unroll
        for (uint32_t u = 0; u < D::kU; ++u) {
            const uint32_t i0 = chunk * kChunk + 32 * u;
            if (i0 < ipr) {
                // Lanes past the row's end load its last block (their values land in columns >= n_cols,
                // never stored).
                const uint32_t b = min((i0 + lane) / Tr::kIPB, nb - 1);
                it[u] = Tr::load(qrow + uint64_t(b) * G.qb, srow + uint64_t(b) * G.sb, sub);
            }
        }
#pragma unroll
        for (uint32_t u = 0; u < D::kU; ++u) {
            const uint32_t i0 = chunk * kChunk + 32 * u;
            if (i0 >= ipr) break;
            // Decode: segment by segment, kP values per shared store.
#pragma unroll
            for (int seg = 0; seg < Tr::kNSeg; ++seg) {
                float mul = 1.0f, add = 0.0f;
                if constexpr (!Tr::kUnscaled) Tr::scale(it[u], sub, seg, mul, add);
                if constexpr (!Tr::kHasMin) add = 0.0f;  // scale() need not set it then
                const uint32_t scol = lane_col + uint32_t(Tr::seg_col(sub, seg));
#pragma unroll
                for (uint32_t p = 0; p < Tr::kSegLen / D::kP; ++p) {
                    float v[D::kP];
#pragma unroll
                    for (uint32_t k4 = 0; k4 < D::kP / 4; ++k4) {
                        const float4 c = Tr::codes(it[u], sub, seg, int(p * (D::kP / 4) + k4));
                        v[4 * k4 + 0] = fmaf(c.x, mul, add);
                        v[4 * k4 + 1] = fmaf(c.y, mul, add);
                        v[4 * k4 + 2] = fmaf(c.z, mul, add);
                        v[4 * k4 + 3] = fmaf(c.w, mul, add);
                    }
                    const uint32_t byte = (scol + p * D::kP) * uint32_t(sizeof(Out));
                    uint8_t* dst = tile + swizzle_unit(byte >> 4) * 16 + (byte & 15);
                    if constexpr (sizeof(Out) == 2) {
                        uint32_t h[D::kP / 2];
#pragma unroll
                        for (uint32_t k = 0; k < D::kP / 2; ++k) {
                            const __half2 h2 = __floats2half2_rn(v[2 * k], v[2 * k + 1]);
                            memcpy(&h[k], &h2, 4);
                        }
                        if constexpr (D::kP == 8) *reinterpret_cast<uint4*>(dst) = make_uint4(h[0], h[1], h[2], h[3]);
                        else *reinterpret_cast<uint2*>(dst) = make_uint2(h[0], h[1]);  // F32 rows to f16
                    } else {
                        *reinterpret_cast<float4*>(dst) = make_float4(v[0], v[1], v[2], v[3]);
                    }
                }
            }
            __syncwarp();
            // Store: unit k*32 + lane holds columns c0 + unit*kVpu ..; c0 and the units are multiples
            // of kVpu, so with n_cols one too a unit is either wholly inside the row or past its end.
            const uint32_t c0 = i0 * D::kV;
#pragma unroll
            for (uint32_t k = 0; k < (D::kUnits + 31) / 32; ++k) {
                const uint32_t unit = k * 32 + lane;
                if (D::kUnits % 32 != 0 && unit >= D::kUnits) break;
                const uint32_t col = c0 + unit * D::kVpu;
                if (col >= n_cols) break;  // (col grows with k)
                const uint8_t* src = tile + swizzle_unit(unit) * 16;
                if (vec_ok) {
                    *reinterpret_cast<uint4*>(orow + col) = *reinterpret_cast<const uint4*>(src);
                } else {  // odd float widths: rows are not 16-byte aligned
                    const Out* sv = reinterpret_cast<const Out*>(src);
                    for (uint32_t j = 0; j < D::kVpu && col + j < n_cols; ++j) orow[col + j] = sv[j];
                }
            }
            __syncwarp();  // the tile is rewritten by the next sub-tile
        }
    }
}

template <class Out>
void dequant_rows(const DeviceMatrix& w, uint64_t row0, uint64_t n, Out* out, cudaStream_t stream) {
    if (n == 0 || w.n_cols == 0) return;  // (an empty grid is a launch error)
    if (w.layout == kLayoutRows) {
        dispatch_decoder(w, [&](auto type_tag, auto tile_tag) {
            if constexpr (!decltype(tile_tag)::value) {  // (the tile instances exist only for the switch)
                constexpr GgmlType T = decltype(type_tag)::value;
                using D = ItemsGeom<T, Out>;
                const uint32_t nb = uint32_t(rows_blocks_per_row(T, w.n_cols));
                const uint32_t chunks = (nb * rows::Traits<T>::kIPB + 32 * D::kU - 1) / (32 * D::kU);
                const dim3 grid(unsigned((n + D::kWarps - 1) / D::kWarps), std::min<uint32_t>(chunks, 65535u));
                dequant_items_kernel<T, Out><<<grid, D::kWarps * 32, 0, stream>>>(
                    w.data, w.data + w.aux_offset, nb, row0, uint32_t(n), uint32_t(w.n_cols), out);
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
