#include "engine/backend_factory.h"

#include <fmt/format.h>

#include "backend/cpu/cpu_backend.h"
#include "llcuda/devices.h"
#include "llcuda/error.h"
#ifdef LLCUDA_HAVE_CUDA
#include "backend/cuda/cuda_backend.h"
#endif

namespace llcuda {

namespace {

// Compute capability 7.5 (Turing, the T4) is the oldest the CUDA kernels are built for.
constexpr int kMinComputeCapability = 75;

// Why CUDA cannot be used here, or "" when it can.
std::string cuda_unusable_reason() {
#ifndef LLCUDA_HAVE_CUDA
    return "this build of llcuda has no CUDA backend (nvcc was not found when it was built)";
#else
    const GpuQuery q = query_gpus();
    if (q.devices.empty()) return q.status;
    const GpuDevice& d = q.devices.front();
    if (d.compute_major * 10 + d.compute_minor < kMinComputeCapability) {
        return fmt::format("{} has compute capability {}.{}; llcuda needs 7.5 or newer", d.name, d.compute_major,
                           d.compute_minor);
    }
    return "";
#endif
}

}  // namespace

Backend resolve_backend(Backend requested) {
    if (requested == Backend::Cpu) return Backend::Cpu;
    const std::string reason = cuda_unusable_reason();
    if (reason.empty()) return Backend::Cuda;
    if (requested == Backend::Cuda) {
        throw Error(ErrorKind::Unsupported, "the CUDA backend was asked for but cannot be used: " + reason);
    }
    return Backend::Cpu;
}

std::unique_ptr<ComputeBackend> make_backend(Backend backend, const ModelConfig& config, const ModelWeights& weights,
                                             const KvCacheShape& kv, const LoadOptions& options,
                                             uint32_t max_step_tokens, uint32_t max_logit_rows,
                                             const KvPoolSizer& size_kv_pool) {
#ifdef LLCUDA_HAVE_CUDA
    if (backend == Backend::Cuda) {
        cuda::CudaBackendOptions o;
        o.kv_type = options.kv_type;
        o.max_batch_tokens = max_step_tokens;
        o.max_logit_rows = max_logit_rows;
        o.use_graphs = options.cuda_graphs;
        o.f16_weight_copies = options.f16_weight_copies;
        o.size_kv_pool = size_kv_pool;
        return cuda::make_cuda_backend(config, weights, kv, o);
    }
#else
    (void)max_step_tokens;
    (void)max_logit_rows;
#endif
    if (backend != Backend::Cpu) throw Error(ErrorKind::Internal, "make_backend needs a resolved backend");
    if (size_kv_pool) throw Error(ErrorKind::Internal, "the CPU backend's KV pool is not sized from device memory");
    if (options.f16_weight_copies) {
        throw Error(ErrorKind::InvalidArgument, "f16 weight copies (f16_weight_copies, --f16-weights) are kept on the "
                                                "GPU; this model loads on the CPU backend (no usable GPU, or backend cpu)");
    }
    return std::make_unique<cpu::CpuBackend>(config, weights, kv, options.n_threads);
}

}  // namespace llcuda
