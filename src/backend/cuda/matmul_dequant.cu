// Dequantization of a band of rows into a dense f16 or f32 scratch matrix, for the GEMM path.
// One thread writes 8 consecutive values of a row (a 16-byte f16 store), value by value: correct
// for every type and layout. Tile-layout matrices (Q4_0, Q4_K) to f16 go through the chunk-wise
// decoder of dequant_tile4.cu instead.
#include <cuda_fp16.h>

#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/decode_dispatch.cuh"
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

template <class Out>
void dequant_rows(const DeviceMatrix& w, uint64_t row0, uint64_t n, Out* out, cudaStream_t stream) {
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
