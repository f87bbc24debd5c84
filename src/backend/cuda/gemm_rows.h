// Tensor-core matrix products for 9..64 tokens straight from the rows layout (Q8_0, Q5_K, Q6_K and
// the other quantized rows types); see gemm_rows.cu. Used by matmul() (matmul.cu), which owns the
// scratch buffers and converts the activations to f16 first.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "backend/cuda/kernels.h"

namespace llcuda::cuda {

// How one call is cut: 256-column chunks, the token width of a CTA, split-K.
struct GemmRowsPlan {
    uint32_t n_chunks = 0;          // n_cols / 256
    uint32_t bn = 0;                // tokens per CTA: 16, 32 or 64
    uint32_t chunks_per_split = 0;
    uint32_t splits = 1;            // > 1: partial products in scratch (splits x n_tokens x n_rows floats)
};

// True when the kernel takes this matrix on this device: rows layout, a quantized type, columns a
// multiple of 256, and shared memory for at least the 16-token CTA.
bool gemm_rows_supported(const DeviceMatrix& w);
// Raises the shared-memory limit of w's type's kernels on the current device (called by
// upload_matrix for every matrix gemm_rows_supported takes).
void gemm_rows_prepare(const DeviceMatrix& w);
GemmRowsPlan gemm_rows_plan(const DeviceMatrix& w, uint32_t n_tokens);

// y (n_tokens x n_rows) (+)= alpha[0] * W x16, x16 (n_tokens x ldx, ldx >= n_cols) the f16 activations
// and alpha a device pointer (matmul's power-of-two activation scale). `partial` holds
// plan.splits * n_tokens * n_rows floats when plan.splits > 1 (else unused).
void gemm_rows(const DeviceMatrix& w, const GemmRowsPlan& plan, const __half* x16, uint32_t ldx, const float* alpha,
               uint32_t n_tokens, float* y, bool accumulate, float* partial, cudaStream_t stream);

}  // namespace llcuda::cuda
