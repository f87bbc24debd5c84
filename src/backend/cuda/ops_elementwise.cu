// Elementwise kernels: bias add, the gated activations of the FFN (SwiGLU, GeGLU) and logit
// soft-capping. Each is one pass over memory with 16-byte accesses where the shapes allow, one
// item per thread (so a decode-sized row is a single memory round trip); the math matches
// cpu::silu / cpu::gelu_tanh term by term (precise expf/tanhf, not the fast intrinsics). Launched
// with programmatic dependent launch (matvec_stream.cuh): pdl_wait() before reading activations.
#include <cuda_runtime.h>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels.h"
#include "backend/cuda/matvec_stream.cuh"
#include "backend/cuda/ops_common.cuh"

namespace llcuda::cuda {

namespace {

// 128-thread blocks: a decode row of a few thousand floats spreads over more SMs.
constexpr int kThreads = 128;

__device__ __forceinline__ float silu(float x) { return x / (1.0f + expf(-x)); }

__device__ __forceinline__ float gelu_tanh(float x) {
    constexpr float kSqrt2OverPi = 0.7978845608028654f;
    return 0.5f * x * (1.0f + tanhf(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
}

template <Activation kAct>
__device__ __forceinline__ float act(float x) {
    return kAct == Activation::GeluTanh ? gelu_tanh(x) : silu(x);
}

// Columns on x (float4s when kVec: dim % 4 == 0, pointers aligned), rows on y (looping past
// 65535 rows).
template <bool kVec>
__global__ void add_bias_kernel(float* x, const float* b, uint32_t n_rows, uint32_t dim) {
    const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
    if (kVec) {
        if (i >= dim / 4) return;
        const float4 bi = reinterpret_cast<const float4*>(b)[i];
        pdl_wait();
        pdl_launch_dependents();
        for (uint32_t r = blockIdx.y; r < n_rows; r += gridDim.y) {
            float4* xr = reinterpret_cast<float4*>(x + uint64_t(r) * dim) + i;
            const float4 v = *xr;
            *xr = make_float4(v.x + bi.x, v.y + bi.y, v.z + bi.z, v.w + bi.w);
        }
    } else {
        if (i >= dim) return;
        const float bi = b[i];
        pdl_wait();
        pdl_launch_dependents();
        for (uint32_t r = blockIdx.y; r < n_rows; r += gridDim.y) x[uint64_t(r) * dim + i] += bi;
    }
}

// kVec: four columns per thread with 16-byte accesses (n_ff and stride multiples of 4, pointers
// aligned); `i` counts float4s then.
template <Activation kAct, bool kVec>
__global__ void glu_kernel(const float* gate, const float* up, uint32_t n_rows, uint32_t n_ff, uint32_t stride,
                           float* out) {
    pdl_wait();
    pdl_launch_dependents();
    const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (kVec ? n_ff / 4 : n_ff)) return;
    for (uint32_t r = blockIdx.y; r < n_rows; r += gridDim.y) {
        const uint64_t in = uint64_t(r) * stride, o = uint64_t(r) * n_ff;
        if (kVec) {
            const float4 g = reinterpret_cast<const float4*>(gate + in)[i];
            const float4 u = reinterpret_cast<const float4*>(up + in)[i];
            reinterpret_cast<float4*>(out + o)[i] =
                make_float4(act<kAct>(g.x) * u.x, act<kAct>(g.y) * u.y, act<kAct>(g.z) * u.z, act<kAct>(g.w) * u.w);
        } else {
            out[o + i] = act<kAct>(gate[in + i]) * up[in + i];
        }
    }
}

__device__ __forceinline__ float cap_one(float x, float cap) { return tanhf(x / cap) * cap; }

// Grid-stride; kVec: float4s (n % 4 == 0, x aligned), `n` counting them.
template <bool kVec>
__global__ void softcap_kernel(float* x, uint64_t n, float cap) {
    pdl_wait();
    pdl_launch_dependents();
    for (uint64_t i = uint64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += uint64_t(gridDim.x) * blockDim.x) {
        if (kVec) {
            float4* p = reinterpret_cast<float4*>(x) + i;
            const float4 v = *p;
            *p = make_float4(cap_one(v.x, cap), cap_one(v.y, cap), cap_one(v.z, cap), cap_one(v.w, cap));
        } else {
            x[i] = cap_one(x[i], cap);
        }
    }
}

template <Activation kAct>
void launch_glu(const float* gate, const float* up, uint32_t n_rows, uint32_t n_ff, uint32_t stride, float* out,
                cudaStream_t stream) {
    const bool vec = n_ff % 4 == 0 && stride % 4 == 0 && ops::aligned16(gate) && ops::aligned16(up) &&
                     ops::aligned16(out);
    const dim3 grid(unsigned(ops::ceil_div(vec ? n_ff / 4 : n_ff, kThreads)), ops::grid_rows(n_rows));
    launch_stream_kernel(vec ? glu_kernel<kAct, true> : glu_kernel<kAct, false>, grid, dim3(kThreads), 0, stream, "glu",
                         gate, up, n_rows, n_ff, stride, out);
}

}  // namespace

void add_bias(float* x, const float* b, uint32_t n_rows, uint32_t dim, cudaStream_t stream) {
    if (n_rows == 0 || dim == 0) return;
    const bool vec = dim % 4 == 0 && ops::aligned16(x) && ops::aligned16(b);
    const dim3 grid(unsigned(ops::ceil_div(vec ? dim / 4 : dim, kThreads)), ops::grid_rows(n_rows));
    launch_stream_kernel(vec ? add_bias_kernel<true> : add_bias_kernel<false>, grid, dim3(kThreads), 0, stream,
                         "add_bias", x, b, n_rows, dim);
}

void glu(const float* gate, const float* up, uint32_t n_rows, uint32_t n_ff, uint32_t stride, Activation act,
         float* out, cudaStream_t stream) {
    if (n_rows == 0 || n_ff == 0) return;
    if (stride < n_ff) ops::invalid("glu: row stride " + std::to_string(stride) + " below n_ff " + std::to_string(n_ff));
    if (act == Activation::GeluTanh) {
        launch_glu<Activation::GeluTanh>(gate, up, n_rows, n_ff, stride, out, stream);
    } else {
        launch_glu<Activation::Silu>(gate, up, n_rows, n_ff, stride, out, stream);
    }
}

void softcap(float* x, uint64_t n, float cap, cudaStream_t stream) {
    if (n == 0) return;
    if (!(cap > 0.0f)) ops::invalid("softcap: the cap must be positive, got " + std::to_string(cap));
    const bool vec = n % 4 == 0 && ops::aligned16(x);
    const uint64_t items = vec ? n / 4 : n;
    const uint64_t blocks = ops::ceil_div(items, kThreads);
    const unsigned grid = unsigned(blocks < 65536 ? blocks : 65536);
    launch_stream_kernel(vec ? softcap_kernel<true> : softcap_kernel<false>, dim3(grid), dim3(kThreads), 0, stream,
                         "softcap", x, items, cap);
}

}  // namespace llcuda::cuda
