// Declarations shared by the matmul module's files (not part of the kernel interface).
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <vector>

#include "backend/cuda/kernels.h"

namespace llcuda::cuda {

// The largest token count served by the matrix-vector kernels; above it, matmul uses the GEMM path.
inline constexpr uint32_t kMatvecMaxTokens = 8;

// Properties of the current device, read once per device (multiprocessor count for grid sizing,
// opt-in shared memory for the tile kernels' activation staging).
struct DeviceLimits {
    int sm_count = 1;
    size_t smem_optin = 48 * 1024;
    int cc_major = 0, cc_minor = 0;
    // __CUDA_ARCH__ of this library's kernels as the device runs them (900 for sm_90 code; 800 when
    // an sm_90 device JIT-compiles compute_80 PTX from a build without sm_90), 0 if the probe
    // failed. Device code for sm_90 features (PDL's griddepcontrol) exists only from 900 on.
    int code_arch = 0;
};
const DeviceLimits& device_limits();

// Split-K for the tensor-core GEMM kernels (gemm_tile4, gemm_rows): the units of K (256 columns)
// per split. `blocks` row x token blocks times the split count fill `slots` CTA slots (SMs x CTAs
// per SM) as a fraction of whole waves; every split adds partial_bytes (its n_tokens x n_rows
// floats, written and read back) to the weight_bytes every call reads. The count with the least
// bytes per unit of fill wins (fewer on ties): a 1024 x 4096 Q4_K matrix at 16 tokens (4 blocks of
// 256 rows) takes 16 splits (64 CTAs on 132 SMs instead of 4), while 28672 x 4096 at 64 tokens
// (112 blocks) keeps one, where 16 would add 117 MB of partials to 66 MB of weights.
inline constexpr uint32_t kMaxGemmSplits = 32;
inline uint32_t gemm_units_per_split(uint64_t blocks, uint32_t n_units, uint64_t slots, double weight_bytes,
                                     double partial_bytes) {
    if (n_units <= 1 || blocks == 0 || slots == 0) return n_units == 0 ? 1 : n_units;
    auto cost = [&](uint64_t splits) {
        const uint64_t b = blocks * splits, waves = (b + slots - 1) / slots;
        const double fill = double(b) / double(waves * slots);
        return (weight_bytes + (splits > 1 ? double(splits) * partial_bytes : 0.0)) / fill;
    };
    uint32_t best = n_units;  // units per split
    double best_cost = cost(1);
    for (uint32_t ups = n_units - 1; ups >= 1; --ups) {
        const uint32_t splits = (n_units + ups - 1) / ups;
        if (splits > kMaxGemmSplits) break;
        if (splits == (n_units + best - 1) / best) continue;
        const double c = cost(splits);
        if (c < 0.95 * best_cost) best = ups, best_cost = c;
    }
    return best;
}

// Host-side repack of a GGUF matrix into the layout the kernels read (matmul_layout.h). Returns
// the bytes to copy to the device; sets layout and aux_offset. Exposed for tests.
std::vector<uint8_t> repack_matrix(const MatrixView& host, int& layout, uint64_t& aux_offset);
// The layout upload_matrix picks for a type.
int layout_for_type(GgmlType type);

// Matrix-vector products for 1..kMatvecMaxTokens activation rows (matvec_rows.cu, matvec_tile.cu).
// Both apply the fusion themselves (the RMSNorm of x inside the kernel, the add in its epilogue).
void matvec_rows(const DeviceMatrix& w, const float* x, uint32_t n_tokens, float* y, const MatmulFusion& f,
                 cudaStream_t stream);
void matvec_tile4(const DeviceMatrix& w, const float* x, uint32_t n_tokens, float* y, const MatmulFusion& f,
                  cudaStream_t stream);
// Raises the tile kernels' dynamic shared memory limit on the current device. Called by
// upload_matrix, so that no launch (possibly inside a graph capture) has to.
void matvec_tile4_prepare();

// Decodes rows [row0, row0 + n) of W into out (n x W.n_cols, row-major), as f16 or f32
// (matmul_dequant.cu). Used for the GEMM scratch.
void dequant_rows_f16(const DeviceMatrix& w, uint64_t row0, uint64_t n, void* out, cudaStream_t stream);
void dequant_rows_f32(const DeviceMatrix& w, uint64_t row0, uint64_t n, float* out, cudaStream_t stream);
// The tile-layout decoder behind dequant_rows_f16 (dequant_tile4.cu); row0 a multiple of 16.
void dequant_tile4_f16(const DeviceMatrix& w, uint64_t row0, uint64_t n, __half* out, cudaStream_t stream);

// "tensor 'name' (type)" for error messages.
std::string describe_matrix(const DeviceMatrix& w);

}  // namespace llcuda::cuda
