// Rows-layout matrix-vector instantiations for the 256-value super-blocks Q2_K, Q3_K, Q5_K, Q6_K
// and IQ4_XS (Q4_K uses the tile layout, matvec_tile.cu).
#include "backend/cuda/matvec_rows.cuh"

namespace llcuda::cuda::rows {

bool launch_rows_kquant(const DeviceMatrix& w, const float* x, uint32_t nt, float* y, const MatmulFusion& f, cudaStream_t stream) {
    switch (w.type) {
        case GgmlType::Q2_K: launch_rows<GgmlType::Q2_K>(w, x, nt, y, f, stream); return true;
        case GgmlType::Q3_K: launch_rows<GgmlType::Q3_K>(w, x, nt, y, f, stream); return true;
        case GgmlType::Q5_K: launch_rows<GgmlType::Q5_K>(w, x, nt, y, f, stream); return true;
        case GgmlType::Q6_K: launch_rows<GgmlType::Q6_K>(w, x, nt, y, f, stream); return true;
        case GgmlType::IQ4_XS: launch_rows<GgmlType::IQ4_XS>(w, x, nt, y, f, stream); return true;
        default: return false;
    }
}

}  // namespace llcuda::cuda::rows
