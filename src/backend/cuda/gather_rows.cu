#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels.h"

namespace llcuda::cuda {

namespace {

// One block per output row; float4 copies when the row length allows (dim % 4 == 0 keeps every
// row 16-byte aligned, since cudaMalloc'd buffers are).
__global__ void gather_rows_kernel(const float* x, const int32_t* row_ids, uint32_t dim, float* out) {
    const float* src = x + uint64_t(row_ids[blockIdx.x]) * dim;
    float* dst = out + uint64_t(blockIdx.x) * dim;
    if (dim % 4 == 0) {
        const float4* s4 = reinterpret_cast<const float4*>(src);
        float4* d4 = reinterpret_cast<float4*>(dst);
        for (uint32_t i = threadIdx.x; i < dim / 4; i += blockDim.x) d4[i] = s4[i];
    } else {
        for (uint32_t i = threadIdx.x; i < dim; i += blockDim.x) dst[i] = src[i];
    }
}

}  // namespace

void gather_rows(const float* x, const int32_t* row_ids, uint32_t n, uint32_t dim, float* out, cudaStream_t stream) {
    if (n == 0) return;
    gather_rows_kernel<<<n, 256, 0, stream>>>(x, row_ids, dim, out);
    check_launch("gather_rows_kernel");
}

}  // namespace llcuda::cuda
