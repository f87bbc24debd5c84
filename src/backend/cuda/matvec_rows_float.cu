// Rows-layout matrix-vector instantiations for F32, F16, BF16 and Q8_0, and the dispatcher.
#include "backend/cuda/matvec_rows.cuh"

namespace llcuda::cuda {
namespace rows {

bool launch_rows_float(const DeviceMatrix& w, const float* x, uint32_t nt, float* y, const MatmulFusion& f, cudaStream_t stream) {
    switch (w.type) {
        case GgmlType::F32: launch_rows<GgmlType::F32>(w, x, nt, y, f, stream); return true;
        case GgmlType::F16: launch_rows<GgmlType::F16>(w, x, nt, y, f, stream); return true;
        case GgmlType::BF16: launch_rows<GgmlType::BF16>(w, x, nt, y, f, stream); return true;
        case GgmlType::Q8_0: launch_rows<GgmlType::Q8_0>(w, x, nt, y, f, stream); return true;
        default: return false;
    }
}

}  // namespace rows

void matvec_rows(const DeviceMatrix& w, const float* x, uint32_t n_tokens, float* y, const MatmulFusion& f,
                 cudaStream_t stream) {
    if (rows::launch_rows_float(w, x, n_tokens, y, f, stream)) return;
    if (rows::launch_rows_legacy(w, x, n_tokens, y, f, stream)) return;
    if (rows::launch_rows_kquant(w, x, n_tokens, y, f, stream)) return;
    throw Error(ErrorKind::Internal, "matvec_rows: no rows-layout kernel for " + describe_matrix(w));
}

}  // namespace llcuda::cuda
