// matmul(): matrix-vector kernels for up to 8 tokens; above, Q4_0/Q4_K matrices (tile layout) go
// to gemm_tile4 (tensor cores on the 4-bit codes, gemm_tile4.cu) up to tile4_gemm_max_tokens()
// tokens, other quantized rows-layout matrices to gemm_rows (tensor cores on the stored rows,
// gemm_rows.cu) up to rows_gemm_max_tokens() tokens, and everything else to a tensor-core GEMM
// through cuBLAS on dequantized bands.
//
// cuBLAS path (n_tokens > 8, types without their own kernel):
//  * Quantized weights: bands of rows are dequantized to an f16 scratch (at most kScratchBytes, the
//    band height follows from n_cols) and multiplied with cublasGemmEx (f16 inputs, f32 compute and
//    output); a matrix with a resident f16 copy (attach_f16_copy) is multiplied whole from it.
//    F16 weights are used in place.
//  * The activations are converted to f16 once per call, scaled by one power of two so that the
//    largest |x| lies in [2^14, 2^15): f16's range (65504) cannot overflow, and the scale's inverse
//    is GEMM's alpha (read from device memory), so y needs no second pass.
//  * F32 and BF16 weights (rare: small models) use f32 GEMM with TF32 tensor cores (no range issue;
//    BF16 bands are widened to f32 first). On sm_75, which has no TF32, cuBLAS computes in f32.
// Scratch grows on demand (cudaMalloc after a stream sync); a forward pass that runs in a CUDA
// graph must therefore have run once eagerly with the largest token count.
//
// Fusion (MatmulFusion): the matrix-vector kernels apply the norm and the accumulate themselves;
// the GEMM path normalizes x into workspace scratch first (rms_norm) and accumulates with beta = 1
// (alpha carries the activation scale, so the old y is added unscaled).
#include <cublas_v2.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/gemm_rows.h"
#include "backend/cuda/gemm_tile4.h"
#include "backend/cuda/matmul_internal.h"
#include "backend/cuda/matmul_layout.h"
#include "backend/cuda/matvec_stream.cuh"
#include "backend/cuda/ops_common.cuh"

namespace llcuda::cuda {

namespace {

__global__ void code_arch_probe_kernel(int* out) {
#if defined(__CUDA_ARCH__)
    *out = __CUDA_ARCH__;
#endif
}

// Runs code_arch_probe_kernel once on the current device, on a stream of its own and with the
// thread's capture mode relaxed for the allocation (the first query normally happens at load time,
// never inside a graph capture, but a library call must not break one). 0 on any failure.
int probe_code_arch() {
    cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
    if (cudaThreadExchangeStreamCaptureMode(&mode) != cudaSuccess) return 0;
    int arch = 0;
    int* d = nullptr;
    cudaStream_t s = nullptr;
    if (cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) == cudaSuccess && cudaMalloc(&d, sizeof(int)) == cudaSuccess &&
        cudaMemsetAsync(d, 0, sizeof(int), s) == cudaSuccess) {
        code_arch_probe_kernel<<<1, 1, 0, s>>>(d);
        if (cudaGetLastError() != cudaSuccess ||
            cudaMemcpyAsync(&arch, d, sizeof(int), cudaMemcpyDeviceToHost, s) != cudaSuccess ||
            cudaStreamSynchronize(s) != cudaSuccess) {
            arch = 0;
        }
    }
    (void)cudaGetLastError();
    if (d) cudaFree(d);
    if (s) cudaStreamDestroy(s);
    cudaThreadExchangeStreamCaptureMode(&mode);
    return arch;
}

}  // namespace

const DeviceLimits& device_limits() {
    static std::mutex mu;
    static std::vector<std::unique_ptr<DeviceLimits>> cache;  // index: device ordinal
    int dev = 0;
    CUDA_CHECK(cudaGetDevice(&dev));
    std::lock_guard<std::mutex> lock(mu);
    if (size_t(dev) >= cache.size()) cache.resize(size_t(dev) + 1);
    if (!cache[size_t(dev)]) {
        auto lim = std::make_unique<DeviceLimits>();
        CUDA_CHECK(cudaDeviceGetAttribute(&lim->sm_count, cudaDevAttrMultiProcessorCount, dev));
        int optin = 0;
        CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
        lim->smem_optin = size_t(optin);
        CUDA_CHECK(cudaDeviceGetAttribute(&lim->cc_major, cudaDevAttrComputeCapabilityMajor, dev));
        CUDA_CHECK(cudaDeviceGetAttribute(&lim->cc_minor, cudaDevAttrComputeCapabilityMinor, dev));
        lim->code_arch = probe_code_arch();
        cache[size_t(dev)] = std::move(lim);
    }
    return *cache[size_t(dev)];
}

namespace {

// Dequantized weight band, at most. Bands sized for L2 measured slower on the H200 (Q4_K 28672x4096,
// 512 tokens: 288 us at 64 MiB, 314 at 32, 405 at 16: cuBLAS runs better on tall bands), and
// dequantizing the next band on a second stream during the GEMM gained nothing.
constexpr size_t kScratchBytes = size_t(64) << 20;
constexpr size_t kCublasWorkspaceBytes = size_t(32) << 20;

void cublas_check(cublasStatus_t st, const char* what) {
    if (st == CUBLAS_STATUS_SUCCESS) return;
    const ErrorKind kind = st == CUBLAS_STATUS_ALLOC_FAILED ? ErrorKind::OutOfMemory : ErrorKind::Internal;
    throw Error(kind, std::string("cuBLAS error in ") + what + ": " + cublasGetStatusString(st));
}

// Activations -> f16 for the GEMM path, in two PDL launches: each block of the first writes the
// largest |x| of its share to partial[block] (no atomics, so nothing to reset between calls); each
// block of the second reduces those partials itself and converts its share (a 512-token call finds
// x mostly in L2). Measured on the H200 against a memset, an atomicMax pass and a conversion pass:
// 8B Q4_K_M pp512 21,330 -> 21,930 tok/s.
constexpr uint32_t kMaxActPartials = 1024;

__global__ void abs_max_partial_kernel(const float* __restrict__ x, uint64_t n, float* __restrict__ partial) {
    __shared__ float red[32];
    pdl_wait();  // x is the previous kernel's output
    pdl_launch_dependents();
    // Four independent loads per step: a few blocks per SM must still keep enough bytes in flight
    // when x (up to 8,192 x 14,336 floats) comes from DRAM rather than L2.
    const uint64_t stride = uint64_t(gridDim.x) * blockDim.x;
    uint64_t i = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    float m = 0.0f;
    for (; i + 3 * stride < n; i += 4 * stride) {
        const float a = x[i], b = x[i + stride], c = x[i + 2 * stride], d = x[i + 3 * stride];
        m = fmaxf(m, fmaxf(fmaxf(fabsf(a), fabsf(b)), fmaxf(fabsf(c), fabsf(d))));
    }
    for (; i < n; i += stride) m = fmaxf(m, fabsf(x[i]));
    m = ops::block_max(m, red);
    if (threadIdx.x == 0) partial[blockIdx.x] = m;
}

// x16 (n_tokens x ld, columns >= n_cols zero) = f16(x * s), s = 2^(14 - floor(log2 m)) where m,
// max |x|, is the largest of n_partial partials; alpha[0] = 1 / s.
__global__ void to_f16_from_partials_kernel(const float* __restrict__ x, uint32_t n_tokens, uint32_t n_cols,
                                            uint32_t ld, const float* __restrict__ partial, uint32_t n_partial,
                                            __half* __restrict__ x16, float* __restrict__ alpha) {
    __shared__ float red[32];
    pdl_wait();  // the partials come from the kernel before
    pdl_launch_dependents();
    float m = 0.0f;
    for (uint32_t i = threadIdx.x; i < n_partial; i += blockDim.x) m = fmaxf(m, partial[i]);
    m = ops::block_max(m, red);  // >= 0: every partial is a largest |x|
    const int e = min(254, max(15, int((__float_as_uint(m) >> 23) & 0xFF)));
    const float s = __uint_as_float(uint32_t(268 - e) << 23);
    if (blockIdx.x == 0 && threadIdx.x == 0) alpha[0] = __uint_as_float(uint32_t(e - 14) << 23);
    const uint64_t total = uint64_t(n_tokens) * ld;
    for (uint64_t i = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += uint64_t(gridDim.x) * blockDim.x) {
        const uint64_t t = i / ld;
        const uint32_t c = uint32_t(i % ld);
        x16[i] = __float2half_rn(c < n_cols ? x[t * n_cols + c] * s : 0.0f);
    }
}

unsigned grid_for(uint64_t work) {
    return unsigned(std::max<uint64_t>(1, std::min<uint64_t>((work + 255) / 256, uint64_t(device_limits().sm_count) * 16)));
}

}  // namespace

struct MatmulWorkspace::Impl {
    cudaStream_t stream = nullptr;
    cublasHandle_t handle = nullptr;
    void* cublas_ws = nullptr;
    void* scratch = nullptr;   // dequantized weight band (f16 or f32)
    size_t scratch_bytes = 0;
    void* x16 = nullptr;       // activations as f16 (n_tokens x ld)
    size_t x16_bytes = 0;
    float* small = nullptr;    // [0] alpha (1/s), [1] 0.0f (beta), [2] unused, [3] 1.0f (beta, accumulate),
                               // [4, 4 + kMaxActPartials) per-block max |x| (abs_max_partial_kernel)
    void* xn = nullptr;        // normalized activations (n_tokens x n_cols f32), fusion.norm_weight
    size_t xn_bytes = 0;
    // gemm_tile4: per-token scaled f16 activations, Q4_K sub-block sums, inverse scales
    void* t4_x16 = nullptr;
    size_t t4_x16_bytes = 0;
    void* t4_xsum = nullptr;
    size_t t4_xsum_bytes = 0;
    void* t4_invs = nullptr;
    size_t t4_invs_bytes = 0;
    void* split_partial = nullptr;  // split-K partials of gemm_tile4 and gemm_rows (splits x n_tokens x n_rows)
    size_t split_partial_bytes = 0;

    uint64_t generation = 0;   // reallocations so far (MatmulWorkspace::generation)

    // Grows a buffer; waits for the stream first because earlier launches may still read it.
    void ensure(void*& p, size_t& have, size_t need, cudaStream_t s) {
        if (need <= have) return;
        ++generation;
        CUDA_CHECK(cudaStreamSynchronize(s));
        if (p) CUDA_CHECK(cudaFree(p));
        p = nullptr;
        have = 0;
        const cudaError_t err = cudaMalloc(&p, need);
        if (err != cudaSuccess) {
            (void)cudaGetLastError();
            size_t free_b = 0, total_b = 0;
            (void)cudaMemGetInfo(&free_b, &total_b);
            throw Error(ErrorKind::OutOfMemory, "matmul scratch: cudaMalloc of " + std::to_string(need) +
                                                    " bytes failed (" + cudaGetErrorString(err) + "); " +
                                                    std::to_string(free_b) + " bytes free");
        }
        have = need;
    }
};

MatmulWorkspace::MatmulWorkspace(cudaStream_t stream) : impl_(std::make_unique<Impl>()) {
    impl_->stream = stream;
    cublas_check(cublasCreate(&impl_->handle), "cublasCreate");
    CUDA_CHECK(cudaMalloc(&impl_->cublas_ws, kCublasWorkspaceBytes));
    cublas_check(cublasSetWorkspace(impl_->handle, impl_->cublas_ws, kCublasWorkspaceBytes), "cublasSetWorkspace");
    cublas_check(cublasSetStream(impl_->handle, stream), "cublasSetStream");
    CUDA_CHECK(cudaMalloc(&impl_->small, (4 + kMaxActPartials) * sizeof(float)));
    const float init[4] = {1.0f, 0.0f, 0.0f, 1.0f};
    CUDA_CHECK(cudaMemcpy(impl_->small, init, sizeof(init), cudaMemcpyHostToDevice));
}

uint64_t MatmulWorkspace::generation() const { return impl_->generation; }

MatmulWorkspace::~MatmulWorkspace() {
    if (!impl_) return;
    if (impl_->handle) cublasDestroy(impl_->handle);
    cudaFree(impl_->cublas_ws);
    cudaFree(impl_->scratch);
    cudaFree(impl_->x16);
    cudaFree(impl_->small);
    cudaFree(impl_->xn);
    cudaFree(impl_->t4_x16);
    cudaFree(impl_->t4_xsum);
    cudaFree(impl_->t4_invs);
    cudaFree(impl_->split_partial);
}

namespace {

// The most tokens gemm_rows (gemm_rows.cu) takes for a rows-layout matrix; above, the dequantized
// band plus cuBLAS. LLCUDA_GEMM_ROWS_MAX overrides it (0: never gemm_rows), for A/B comparisons.
uint32_t rows_gemm_max_tokens() {
    static const uint32_t max_tokens = [] {
        const char* v = std::getenv("LLCUDA_GEMM_ROWS_MAX");
        return v && *v ? uint32_t(std::strtoul(v, nullptr, 10)) : 64u;
    }();
    return max_tokens;
}

// y (n x N) for the GEMM path; see the file comment.
// accumulate: beta = 1 (y += alpha * W·x16; alpha undoes the activation scale of the product only).
void gemm_path(const DeviceMatrix& w, const float* x, uint32_t n, float* y, bool accumulate,
               MatmulWorkspace::Impl& ws, cudaStream_t stream) {
    const uint64_t N = w.n_rows, K = w.n_cols;
    cublas_check(cublasSetStream(ws.handle, stream), "cublasSetStream");
    const bool f32_path = w.type == GgmlType::F32 || w.type == GgmlType::BF16;
    const size_t elem = f32_path ? 4 : 2;
    // Rows per band: the scratch bound, a multiple of 16, at least 16.
    const uint64_t band = std::min<uint64_t>(N, std::max<uint64_t>(16, kScratchBytes / (K * elem) / 16 * 16));

    if (f32_path) {
        cublas_check(cublasSetPointerMode(ws.handle, CUBLAS_POINTER_MODE_HOST), "cublasSetPointerMode");
        const float one = 1.0f, beta = accumulate ? 1.0f : 0.0f;
        if (w.type == GgmlType::BF16) ws.ensure(ws.scratch, ws.scratch_bytes, band * K * 4, stream);
        for (uint64_t r0 = 0; r0 < N; r0 += band) {
            const uint64_t rows = std::min(band, N - r0);
            const void* A;
            uint64_t lda;
            if (w.type == GgmlType::F32) {
                lda = rows_blocks_per_row(GgmlType::F32, K) * 4;
                A = w.data + r0 * lda * 4;
            } else {
                dequant_rows_f32(w, r0, rows, static_cast<float*>(ws.scratch), stream);
                A = ws.scratch;
                lda = K;
            }
            cublas_check(cublasGemmEx(ws.handle, CUBLAS_OP_T, CUBLAS_OP_N, int(rows), int(n), int(K), &one, A,
                                      CUDA_R_32F, int(lda), x, CUDA_R_32F, int(K), &beta, y + r0, CUDA_R_32F, int(N),
                                      CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT),
                         "cublasGemmEx (tf32)");
        }
        return;
    }

    // Activations -> f16 with one power-of-two scale; alpha = 1/scale on the device.
    const uint32_t ldx = uint32_t((K + 7) / 8 * 8);
    ws.ensure(ws.x16, ws.x16_bytes, size_t(n) * ldx * 2, stream);
    float* partial = ws.small + 4;
    // Two blocks per SM up to 512 tokens (the measured configuration); one more block per 64 Ki
    // elements beyond, so that long prompts, whose x lives in DRAM, fill the SMs.
    const uint64_t n_x = uint64_t(n) * K;
    const uint32_t n_partial = uint32_t(std::min<uint64_t>(
        {kMaxActPartials, std::max<uint64_t>(uint64_t(device_limits().sm_count) * 2, (n_x + 65535) / 65536),
         (n_x + 4095) / 4096}));
    launch_stream_kernel(abs_max_partial_kernel, dim3(std::max(n_partial, 1u)), dim3(256), 0, stream,
                         "abs_max_partial_kernel", x, n_x, partial);
    launch_stream_kernel(to_f16_from_partials_kernel, dim3(grid_for(uint64_t(n) * ldx)), dim3(256), 0, stream,
                         "to_f16_from_partials_kernel", x, n, uint32_t(K), ldx, static_cast<const float*>(partial),
                         std::max(n_partial, 1u), static_cast<__half*>(ws.x16), ws.small);

    if (n <= rows_gemm_max_tokens() && gemm_rows_supported(w)) {  // tensor cores on the rows, no f16 copy
        const GemmRowsPlan plan = gemm_rows_plan(w, n);
        if (plan.splits > 1) ws.ensure(ws.split_partial, ws.split_partial_bytes, size_t(plan.splits) * n * N * 4, stream);
        gemm_rows(w, plan, static_cast<const __half*>(ws.x16), ldx, ws.small, n, y, accumulate,
                  static_cast<float*>(ws.split_partial), stream);
        return;
    }

    cublas_check(cublasSetPointerMode(ws.handle, CUBLAS_POINTER_MODE_DEVICE), "cublasSetPointerMode");
    if (w.f16_copy) {  // resident f16 weights (attach_f16_copy): one GEMM over every row
        cublas_check(cublasGemmEx(ws.handle, CUBLAS_OP_T, CUBLAS_OP_N, int(N), int(n), int(K), ws.small, w.f16_copy,
                                  CUDA_R_16F, int(K), ws.x16, CUDA_R_16F, int(ldx), ws.small + (accumulate ? 3 : 1), y,
                                  CUDA_R_32F, int(N), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                     "cublasGemmEx (f16 copy)");
        return;
    }
    if (w.type != GgmlType::F16) ws.ensure(ws.scratch, ws.scratch_bytes, band * K * 2, stream);
    for (uint64_t r0 = 0; r0 < N; r0 += band) {
        const uint64_t rows = std::min(band, N - r0);
        const void* A;
        uint64_t lda;
        if (w.type == GgmlType::F16) {  // rows are already f16 (padded to 8 values)
            lda = rows_blocks_per_row(GgmlType::F16, K) * 8;
            A = w.data + r0 * lda * 2;
        } else {
            dequant_rows_f16(w, r0, rows, ws.scratch, stream);
            A = ws.scratch;
            lda = K;
        }
        cublas_check(cublasGemmEx(ws.handle, CUBLAS_OP_T, CUBLAS_OP_N, int(rows), int(n), int(K), ws.small, A,
                                  CUDA_R_16F, int(lda), ws.x16, CUDA_R_16F, int(ldx), ws.small + (accumulate ? 3 : 1), y + r0,
                                  CUDA_R_32F, int(N), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                     "cublasGemmEx (f16)");
    }
}

// The most tokens gemm_tile4 takes; above, a chunk-wise dequantization to f16 plus cuBLAS is
// faster (H200, Llama-3-8B shapes: gemm_tile4 runs mma.sync at 250-290 TFLOP/s from 128 tokens
// up, cuBLAS on sm_90 at 400-580, and the f16 band costs ~2.6 bytes per weight once per call).
// LLCUDA_GEMM_TILE4_MAX overrides it (0: never gemm_tile4), for A/B comparisons.
uint32_t tile4_gemm_max_tokens() {
    static const uint32_t max_tokens = [] {
        const char* v = std::getenv("LLCUDA_GEMM_TILE4_MAX");
        const uint32_t n = v && *v ? uint32_t(std::strtoul(v, nullptr, 10)) : 128u;
        return gemm_tile4_supported() ? n : 0u;
    }();
    return max_tokens;
}

void tile4_gemm_path(const DeviceMatrix& w, const float* x, uint32_t n, float* y, const MatmulFusion& f,
                     MatmulWorkspace::Impl& ws, cudaStream_t stream) {
    const GemmTile4Plan plan = gemm_tile4_plan(w, n);
    const bool q4k = w.type == GgmlType::Q4_K;
    ws.ensure(ws.t4_x16, ws.t4_x16_bytes, size_t(n) * plan.ldk * 2, stream);
    ws.ensure(ws.t4_xsum, ws.t4_xsum_bytes, size_t(n) * (plan.ldk / 16) * 2, stream);  // sums: high + low parts
    ws.ensure(ws.t4_invs, ws.t4_invs_bytes, size_t(n) * 4, stream);
    if (plan.splits > 1) ws.ensure(ws.split_partial, ws.split_partial_bytes, size_t(plan.splits) * n * w.n_rows * 4, stream);
    auto* x16 = static_cast<__half*>(ws.t4_x16);
    auto* xsum = static_cast<__half*>(ws.t4_xsum);
    auto* invs = static_cast<float*>(ws.t4_invs);
    act_to_f16(x, n, uint32_t(w.n_cols), f.norm_weight, f.norm_eps, plan.ldk, q4k, x16, xsum, invs, stream);
    gemm_tile4(w, plan, x16, xsum, invs, n, y, f.accumulate, static_cast<float*>(ws.split_partial), stream);
}

}  // namespace

void matmul(const DeviceMatrix& w, const float* x, uint32_t n_tokens, float* y, MatmulWorkspace& ws,
            cudaStream_t stream, const MatmulFusion& fusion) {
    if (!w.present()) throw Error(ErrorKind::InvalidArgument, "matmul: the weight matrix is not on the device");
    if (n_tokens == 0) return;
    if (x == nullptr || y == nullptr || reinterpret_cast<uintptr_t>(x) % 4 || reinterpret_cast<uintptr_t>(y) % 4)
        throw Error(ErrorKind::InvalidArgument, "matmul: x and y must be non-null float arrays");
    if (w.n_rows > 0x7FFFFFFFu || w.n_cols > 0x7FFFFFFFu)
        throw Error(ErrorKind::Unsupported, "matmul: " + describe_matrix(w) + " exceeds 2^31 rows or columns");
    if (n_tokens <= kMatvecMaxTokens) {  // the kernels apply the fusion themselves
        if (w.layout == kLayoutTile4) matvec_tile4(w, x, n_tokens, y, fusion, stream);
        else matvec_rows(w, x, n_tokens, y, fusion, stream);
        return;
    }
    if (w.layout == kLayoutTile4 && n_tokens <= tile4_gemm_max_tokens()) {  // applies the norm itself
        tile4_gemm_path(w, x, n_tokens, y, fusion, ws.impl(), stream);
        return;
    }
    if (fusion.norm_weight) {  // GEMM: normalized rows into scratch, then the plain product
        MatmulWorkspace::Impl& im = ws.impl();
        im.ensure(im.xn, im.xn_bytes, size_t(n_tokens) * w.n_cols * sizeof(float), stream);
        rms_norm(x, fusion.norm_weight, n_tokens, uint32_t(w.n_cols), fusion.norm_eps, static_cast<float*>(im.xn), stream);
        check_launch("rms_norm (matmul fusion)");
        x = static_cast<const float*>(im.xn);
    }
    gemm_path(w, x, n_tokens, y, fusion.accumulate, ws.impl(), stream);
}

}  // namespace llcuda::cuda
