// Rows-layout matrix-vector instantiations for the 32-value blocks Q4_1, Q5_0, Q5_1 and IQ4_NL.
#include "backend/cuda/matvec_rows.cuh"

namespace llcuda::cuda::rows {

bool launch_rows_legacy(const DeviceMatrix& w, const float* x, uint32_t nt, float* y, const MatmulFusion& f, cudaStream_t stream) {
    switch (w.type) {
        case GgmlType::Q4_1: launch_rows<GgmlType::Q4_1>(w, x, nt, y, f, stream); return true;
        case GgmlType::Q5_0: launch_rows<GgmlType::Q5_0>(w, x, nt, y, f, stream); return true;
        case GgmlType::Q5_1: launch_rows<GgmlType::Q5_1>(w, x, nt, y, f, stream); return true;
        case GgmlType::IQ4_NL: launch_rows<GgmlType::IQ4_NL>(w, x, nt, y, f, stream); return true;
        default: return false;
    }
}

}  // namespace llcuda::cuda::rows
