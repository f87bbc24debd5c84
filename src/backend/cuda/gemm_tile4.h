// Tensor-core matrix products for more than 8 tokens straight from the 4-bit tile layout (Q4_0,
// Q4_K); see gemm_tile4.cu (the activations' preparation: act_to_f16.cu). Used by matmul()
// (matmul.cu), which owns the scratch buffers.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "backend/cuda/kernels.h"

namespace llcuda::cuda {

// How one call is cut: columns in 256-column units, the f16 activation row length, split-K.
struct GemmTile4Plan {
    uint32_t n_units = 0;          // 256-column units of the matrix (Q4_0 columns padded)
    uint32_t ldk = 0;              // halves per staged activation row = n_units * 256
    uint32_t units_per_split = 0;
    uint32_t splits = 1;           // > 1: partial products in scratch (splits x n_tokens x n_rows floats)
    uint32_t bn = 64;              // tokens per CTA: 16, 32 or 64
};

// False where two stages of the 64-token tile (137 KiB per CTA) exceed the device's shared-memory
// opt-in limit (sm_75, sm_86, sm_89): matmul then keeps the dequantize + cuBLAS path.
bool gemm_tile4_supported();
// Raises the kernels' shared-memory limit on the current device (called by upload_matrix).
void gemm_tile4_prepare();
GemmTile4Plan gemm_tile4_plan(const DeviceMatrix& w, uint32_t n_tokens);

// x16 (n_tokens x ldk) = f16(x' * s_t), x' = x, or x * norm_weight / rms(x) when norm_weight is set;
// s_t a power of two per token putting its largest |x'| in [512, 1024); invs (n_tokens) = 1 / s_t;
// with `sums`, xsum (n_tokens x ldk / 16): per 256-column unit, the f16 high parts of its eight
// 32-column sums of scaled x', then their low parts (sum - high) (Q4_K mins).
void act_to_f16(const float* x, uint32_t n_tokens, uint32_t n_cols, const float* norm_weight, float eps, uint32_t ldk,
                bool sums, __half* x16, __half* xsum, float* invs, cudaStream_t stream);

// y (n_tokens x n_rows) (+)= W x from act_to_f16's output; `partial` holds
// plan.splits * n_tokens * n_rows floats when plan.splits > 1 (else unused).
void gemm_tile4(const DeviceMatrix& w, const GemmTile4Plan& plan, const __half* x16, const __half* xsum,
                const float* invs, uint32_t n_tokens, float* y, bool accumulate, float* partial, cudaStream_t stream);

}  // namespace llcuda::cuda
