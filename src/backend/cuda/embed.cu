// Embedding lookup: rows of any uploaded matrix decoded by token id and scaled. An id outside
// [0, n_rows) yields a row of NaN (the ids live on the device, so they cannot be checked before
// the launch without a copy; NaN makes the mistake visible instead of reading out of bounds).
#include <algorithm>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/decode_dispatch.cuh"

namespace llcuda::cuda {
namespace {

constexpr int kThreads = 256;

// grid (ceil(n_cols / kThreads), n): block y = output row, one value per thread.
template <class Dec>
__global__ void embed_kernel(Dec dec, uint64_t n_rows, uint32_t n_cols, const int32_t* __restrict__ ids, float scale,
                             float* __restrict__ out) {
    const uint32_t col = blockIdx.x * kThreads + threadIdx.x;
    if (col >= n_cols) return;
    const int32_t id = ids[blockIdx.y];
    const float v = id >= 0 && uint64_t(id) < n_rows ? dec(uint64_t(id), col) * scale : __int_as_float(0x7FC00000);
    out[uint64_t(blockIdx.y) * n_cols + col] = v;
}

}  // namespace

void embed_rows(const DeviceMatrix& w, const int32_t* ids, uint32_t n, float scale, float* out, cudaStream_t stream) {
    if (!w.present()) throw Error(ErrorKind::InvalidArgument, "embed_rows: the matrix is not on the device");
    if (n == 0) return;
    dispatch_decoder(w, [&](auto type_tag, auto tile_tag) {
        using Dec = MatrixDecoder<decltype(type_tag)::value, decltype(tile_tag)::value>;
        for (uint32_t first = 0; first < n; first += 65535) {  // grid.y is at most 65535
            const uint32_t count = std::min<uint32_t>(65535, n - first);
            const dim3 grid(unsigned((w.n_cols + kThreads - 1) / kThreads), count);
            embed_kernel<Dec><<<grid, kThreads, 0, stream>>>(Dec(w), w.n_rows, uint32_t(w.n_cols), ids + first, scale,
                                                             out + uint64_t(first) * w.n_cols);
            check_launch("embed_kernel");
        }
    });
}

}  // namespace llcuda::cuda
