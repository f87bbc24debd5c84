// Resident f16 copies of quantized matrices, for the cuBLAS path of matmul().
//
// Why: above 128 tokens (Q4_0/Q4_K) or 64 (the other quantized types) a product dequantizes the
// matrix to f16 in bands and multiplies each band with cuBLAS, so every call writes and reads
// ~4 bytes a weight on top of the stored codes and runs one GEMM per band: Llama-3-8B Q4_K
// gate+up (28672x4096) at 512 tokens took 281 us that way against 191 us for the same product on
// f16 weights (H200). A serving GPU with memory to spare (an 8B model's copies are ~15 GB) can
// keep the dequantized matrices instead: prompt chunks and large batches then run one GEMM on
// them. Decode steps of up to 64-128 sequences keep reading the 4-bit codes (their own kernels).
#include <cuda_runtime.h>

#include <algorithm>

#include <fmt/format.h>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels.h"
#include "backend/cuda/matmul_internal.h"
#include "llcuda/error.h"

namespace llcuda::cuda {

bool takes_f16_copy(GgmlType type) {
    return type != GgmlType::F16 && type != GgmlType::F32 && type != GgmlType::BF16;
}

uint64_t f16_copy_bytes(const DeviceMatrix& w) {
    return w.present() && takes_f16_copy(w.type) ? w.n_rows * w.n_cols * 2 : 0;
}

void attach_f16_copy(DeviceMatrix& w, cudaStream_t stream) {
    const uint64_t bytes = f16_copy_bytes(w);
    if (bytes == 0 || w.f16_copy) return;
    void* p = nullptr;
    const cudaError_t err = cudaMalloc(&p, bytes);
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        size_t free_bytes = 0, total = 0;
        cudaMemGetInfo(&free_bytes, &total);
        throw Error(ErrorKind::OutOfMemory,
                    fmt::format("cannot allocate {:.1f} MiB of GPU memory for the f16 copy of {} ({:.1f} MiB free); "
                                "load without f16 weight copies", double(bytes) / (1 << 20), describe_matrix(w),
                                double(free_bytes) / (1 << 20)));
    }
    w.f16_owner = std::shared_ptr<void>(p, [](void* q) { cudaFree(q); });
    // In bands of at most 4096 rows (multiples of 16, as the tile decoder wants), one decoder launch each.
    constexpr uint64_t kBand = 4096;
    for (uint64_t r0 = 0; r0 < w.n_rows; r0 += kBand) {
        const uint64_t rows = std::min(kBand, w.n_rows - r0);
        dequant_rows_f16(w, r0, rows, static_cast<uint8_t*>(p) + r0 * w.n_cols * 2, stream);
    }
    CUDA_CHECK(cudaStreamSynchronize(stream));
    w.f16_copy = p;
}

}  // namespace llcuda::cuda
