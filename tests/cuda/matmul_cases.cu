// Weight matrices on the GPU (upload_matrix, matmul, embed_rows) against the CPU: the reference
// decodes the same GGUF bytes with llcuda::dequantize (the CPU decoder) and forms every product in
// float64. Weights come from quantizing random floats with our CPU quantizer (realistic scales),
// except the Llama-3-8B bandwidth shapes, which are random blocks with sane f16 scales (quantizing
// half a billion values on the CPU would dominate the run); their reference uses a subset of rows.
//
// Tolerances (normalized error ||gpu - cpu|| / ||cpu||):
//   1e-5  matrix-vector kernels (n <= 8): float32 arithmetic (rows layout), or exact-integer f16
//         tensor-core products with activations split into f16 hi + lo parts (tile layout,
//         Q4_0/Q4_K). Both land around 1e-6.
//   3e-3  GEMM path (n > 8): weights and activations rounded to f16 (TF32 for F32/BF16 weights),
//         ~3e-4 expected for random data.
//   1e-6  embedding rows: decoding is exact, only the scale multiply rounds.
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "backend/cuda/kernels.h"
#include "backend/cuda/matmul_internal.h"
#include "backend/cuda/matvec_stream.cuh"
#include "harness.h"
#include "llcuda/error.h"
#include "llcuda/quantize.h"

namespace llcuda::cuda::test {
namespace {

constexpr double kMatvecTol = 1e-5, kGemmTol = 3e-3, kEmbedTol = 1e-6;

const GgmlType kAllTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q8_0,   GgmlType::Q4_0,
                              GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q2_K,   GgmlType::Q3_K,
                              GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::IQ4_NL, GgmlType::IQ4_XS};
const GgmlType kHotTypes[] = {GgmlType::Q4_K, GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q6_K, GgmlType::F16};

template <class Fn>
void parallel_for(uint64_t n, Fn fn) {
    const unsigned nt = std::max(1u, std::min(32u, std::thread::hardware_concurrency()));
    std::vector<std::thread> th;
    for (unsigned i = 0; i < nt; ++i)
        th.emplace_back([=] {
            for (uint64_t k = i; k < n; k += nt) fn(k);
        });
    for (auto& t : th) t.join();
}

// A test matrix: its GGUF bytes, decoded values (all rows or the reference subset), and the
// uploaded copy. One is kept at a time (cases of one matrix are registered together).
struct TestMatrix {
    std::string key;
    GgmlType type = GgmlType::F32;
    uint32_t rows = 0, cols = 0;
    std::vector<uint8_t> bytes;
    std::vector<uint32_t> ref_rows;  // rows the reference covers
    std::vector<float> values;       // ref_rows.size() x cols, decoded on the CPU
    DeviceMatrix dev;
};

uint64_t row_bytes(GgmlType t, uint32_t cols) { return ggml_row_bytes(t, cols); }

// Random GGUF blocks with sane scales (bandwidth cases): quants uniform, f16 scale fields replaced.
std::vector<uint8_t> random_blocks(GgmlType type, uint32_t rows, uint32_t cols, uint64_t seed) {
    const uint64_t rb = row_bytes(type, cols);
    std::vector<uint8_t> out(rb * rows);
    if (type == GgmlType::F16) {
        parallel_for(rows, [&](uint64_t r) {
            uint64_t s = seed * 0x9E3779B97F4A7C15ull + r * 0xD1B54A32D192ED03ull + 1;
            for (uint32_t c = 0; c < cols; ++c) {
                s ^= s << 13, s ^= s >> 7, s ^= s << 17;
                const float v = float(int32_t(s >> 40) - (1 << 23)) / float(1 << 23);
                const __half h = __float2half_rn(v);
                std::memcpy(&out[r * rb + 2 * c], &h, 2);
            }
        });
        return out;
    }
    const GgmlTypeInfo& info = ggml_type_info(type);
    parallel_for(rows, [&](uint64_t r) {
        uint64_t s = seed * 0x9E3779B97F4A7C15ull + r * 0xD1B54A32D192ED03ull + 1;
        uint8_t* row = &out[r * rb];
        for (uint64_t i = 0; i < rb; i += 8) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            std::memcpy(row + i, &s, std::min<uint64_t>(8, rb - i));
        }
        for (uint64_t b = 0; b < rb / info.type_size; ++b) {
            uint8_t* blk = row + b * info.type_size;
            auto put = [&](uint32_t off, float v) {
                const __half h = __float2half_rn(v);
                std::memcpy(blk + off, &h, 2);
            };
            const float jitter = 1.0f + float(blk[info.type_size - 1] & 7) / 8.0f;
            if (type == GgmlType::Q4_0 || type == GgmlType::Q8_0) put(0, 0.01f * jitter);
            if (type == GgmlType::Q4_K) put(0, 0.002f * jitter), put(2, 0.001f * jitter);
            if (type == GgmlType::Q6_K) put(208, 0.0005f * jitter);
        }
    });
    return out;
}

TestMatrix& get_matrix(GgmlType type, uint32_t rows, uint32_t cols, bool random_quants) {
    static std::unique_ptr<TestMatrix> cur;
    const std::string key = std::string(ggml_type_name(type)) + ":" + std::to_string(rows) + "x" + std::to_string(cols) +
                            (random_quants ? ":random" : ":quantized");
    if (cur && cur->key == key) return *cur;
    cur.reset();  // free the previous one first (host and device)
    auto m = std::make_unique<TestMatrix>();
    m->key = key;
    m->type = type;
    m->rows = rows;
    m->cols = cols;
    const uint64_t seed = std::hash<std::string>{}(key) | 1;
    if (random_quants) {
        m->bytes = random_blocks(type, rows, cols, seed);
    } else {
        const std::vector<float> src = random_floats(uint64_t(rows) * cols, -1.0f, 1.0f, seed);
        m->bytes = quantize(type, src, cols);
    }
    // Reference rows: all of them, or ~512 spread over a big matrix (plus the last row).
    const uint32_t stride = rows > 8192 ? rows / 512 : 1;
    for (uint32_t r = 0; r < rows; r += stride) m->ref_rows.push_back(r);
    if (m->ref_rows.back() != rows - 1) m->ref_rows.push_back(rows - 1);
    const uint64_t rb = row_bytes(type, cols);
    m->values.resize(m->ref_rows.size() * uint64_t(cols));
    parallel_for(m->ref_rows.size(), [&](uint64_t i) {
        dequantize(type, std::span<const uint8_t>(&m->bytes[m->ref_rows[i] * rb], rb),
                   std::span<float>(&m->values[i * cols], cols));
    });
    MatrixView view;
    view.name = "test." + key;
    view.data = m->bytes.data();
    view.type = type;
    view.n_cols = cols;
    view.n_rows = rows;
    view.row_bytes = rb;
    m->dev = upload_matrix(view);
    cur = std::move(m);
    return *cur;
}

// A device copy of an uploaded matrix (bench rotation: consecutive launches must not find the
// weights in L2, as in a real forward pass where every matrix is read once per token).
DeviceMatrix clone(const DeviceMatrix& w) {
    DeviceMatrix c = w;
    void* p = nullptr;
    CUDA_OK(cudaMalloc(&p, w.bytes));
    CUDA_OK(cudaMemcpy(p, w.data, w.bytes, cudaMemcpyDeviceToDevice));
    c.data = static_cast<uint8_t*>(p);
    c.owner = std::shared_ptr<void>(p, [](void* q) { cudaFree(q); });
    return c;
}

enum class XKind { Uniform, Huge, Tiny, MixedGroups, FirstRowZero };

std::vector<float> make_x(XKind kind, uint32_t n, uint32_t cols) {
    switch (kind) {
        case XKind::Uniform: return random_floats(uint64_t(n) * cols, -1.0f, 1.0f);
        case XKind::Huge: return random_floats(uint64_t(n) * cols, -3.0e4f, 3.0e4f);    // past f16's 65504 once multiplied
        case XKind::Tiny: return random_floats(uint64_t(n) * cols, -1.0e-6f, 1.0e-6f);  // f16 subnormal range
        case XKind::FirstRowZero: {  // a token whose row is all zeros (a padded or silent position)
            std::vector<float> x = random_floats(uint64_t(n) * cols, -1.0f, 1.0f);
            std::fill(x.begin(), x.begin() + cols, 0.0f);
            return x;
        }
        case XKind::MixedGroups: {  // one 256-column group 10^4 times larger than the rest
            std::vector<float> x = random_floats(uint64_t(n) * cols, -1.0f, 1.0f);
            for (uint32_t t = 0; t < n; ++t)
                for (uint32_t c = 0; c < std::min(cols, 256u); ++c) x[uint64_t(t) * cols + c] *= 1.0e4f;
            return x;
        }
    }
    return {};
}

// What the product does besides multiplying (MatmulFusion): the RMSNorm of x in front, the add to y.
enum Fuse : int { kFuseNone = 0, kFuseNorm = 1, kFuseAcc = 2, kFuseBoth = 3 };
constexpr float kNormEps = 1e-5f;

CaseResult run_matmul(GgmlType type, uint32_t rows, uint32_t cols, uint32_t n, XKind xk, bool random_quants,
                      bool timed, int fuse = kFuseNone, bool f16_copy = false) {
    TestMatrix& m = get_matrix(type, rows, cols, random_quants);
    // With f16_copy the product reads a resident f16 copy of the matrix (attach_f16_copy) where its
    // token count takes the cuBLAS path; the copy is this call's own, freed at its end.
    DeviceMatrix w = m.dev;
    if (f16_copy) attach_f16_copy(w, nullptr);
    std::vector<float> x = make_x(xk, n, cols);
    DeviceArray<float> dx(x), dy(uint64_t(n) * rows);
    // accumulate: y starts as random values of the product's magnitude (else poisoned: all written)
    std::vector<float> y0;
    if (fuse & kFuseAcc) {
        y0 = random_floats(uint64_t(n) * rows, -10.0f, 10.0f);
        dy.upload(y0);
    } else {
        dy.poison();
    }
    const std::vector<float> nw = fuse & kFuseNorm ? random_floats(cols, 0.5f, 1.5f) : std::vector<float>{};
    DeviceArray<float> dnw(fuse & kFuseNorm ? nw : std::vector<float>{1.0f});
    MatmulFusion fusion;
    if (fuse & kFuseNorm) fusion.norm_weight = dnw.get(), fusion.norm_eps = kNormEps;
    fusion.accumulate = (fuse & kFuseAcc) != 0;
    static MatmulWorkspace* const workspace = new MatmulWorkspace(nullptr);  // one per process, like a backend's
    MatmulWorkspace& ws = *workspace;
    matmul(w, dx.get(), n, dy.get(), ws, nullptr, fusion);
    sync_check("matmul");
    const std::vector<float> y = dy.download();
    if (fuse & kFuseNorm) {  // the reference product reads rms_norm(x) * w, in float64 (cpu::rms_norm's formula)
        for (uint32_t t = 0; t < n; ++t) {
            float* xt = &x[uint64_t(t) * cols];
            double ss = 0;
            for (uint32_t c = 0; c < cols; ++c) ss += double(xt[c]) * xt[c];
            const double inv = 1.0 / std::sqrt(ss / cols + double(kNormEps));
            for (uint32_t c = 0; c < cols; ++c) xt[c] = float(double(xt[c]) * inv * nw[c]);
        }
    }

    const uint64_t nr = m.ref_rows.size();
    std::vector<float> ref(nr * n), got(nr * n);
    parallel_for(nr, [&](uint64_t i) {
        const float* w = &m.values[i * cols];
        for (uint32_t t = 0; t < n; ++t) {
            const float* xt = &x[uint64_t(t) * cols];
            double s = 0;
            for (uint32_t c = 0; c < cols; ++c) s += double(w[c]) * double(xt[c]);
            if (fuse & kFuseAcc) s += y0[uint64_t(t) * rows + m.ref_rows[i]];
            ref[i * n + t] = float(s);
            got[i * n + t] = y[uint64_t(t) * rows + m.ref_rows[i]];
        }
    });
    CaseResult r;
    r.error = normalized_error(got, ref);
    r.bytes = uint64_t(rows) * row_bytes(type, cols) + (uint64_t(n) * cols + uint64_t(n) * rows) * 4;
    r.flops = 2.0 * rows * cols * n;
    if (timed) {
        std::vector<DeviceMatrix> copies{w};
        const uint64_t want = uint64_t(256) << 20;  // > 4x the H100/H200 L2
        const uint64_t bytes_each = f16_copy ? f16_copy_bytes(w) : m.dev.bytes;
        while (copies.size() < 16 && copies.size() * bytes_each < want) {
            copies.push_back(clone(m.dev));
            if (f16_copy) attach_f16_copy(copies.back(), nullptr);
        }
        size_t i = 0;
        r.median_us =
            time_median_us([&] { matmul(copies[i++ % copies.size()], dx.get(), n, dy.get(), ws, nullptr, fusion); });
    }
    return r;
}

CaseResult run_embed(GgmlType type, uint32_t rows, uint32_t cols, float scale, bool timed) {
    TestMatrix& m = get_matrix(type, rows, cols, false);
    std::vector<int32_t> ids = {0, int32_t(rows - 1), int32_t(rows / 2), 1};
    for (int i = 0; i < 5; ++i) ids.push_back(int32_t(test_rng()() % rows));
    DeviceArray<int32_t> dids(ids);
    DeviceArray<float> dout(ids.size() * cols);
    dout.poison();
    embed_rows(m.dev, dids.get(), uint32_t(ids.size()), scale, dout.get(), nullptr);
    sync_check("embed_rows");
    std::vector<float> ref(ids.size() * cols);
    for (size_t i = 0; i < ids.size(); ++i)
        for (uint32_t c = 0; c < cols; ++c) ref[i * cols + c] = m.values[uint64_t(ids[i]) * cols + c] * scale;
    CaseResult r;
    r.error = normalized_error(dout.download(), ref);
    r.bytes = ids.size() * (row_bytes(type, cols) + uint64_t(cols) * 4);
    if (timed) r.median_us = time_median_us([&] { embed_rows(m.dev, dids.get(), uint32_t(ids.size()), scale, dout.get(), nullptr); });
    return r;
}

// Ids outside the matrix give NaN rows (error 0 when every value is NaN, else infinity).
CaseResult run_embed_bad_ids() {
    TestMatrix& m = get_matrix(GgmlType::Q4_K, 1001, 2048, false);
    DeviceArray<int32_t> dids(std::vector<int32_t>{-1, 1001, 1 << 30});
    DeviceArray<float> dout(3 * 2048);
    CUDA_OK(cudaMemset(dout.get(), 0, 3 * 2048 * sizeof(float)));
    embed_rows(m.dev, dids.get(), 3, 1.0f, dout.get(), nullptr);
    sync_check("embed_rows");
    CaseResult r;
    const auto out = dout.download();
    r.error = std::all_of(out.begin(), out.end(), [](float v) { return std::isnan(v); }) ? 0.0 : INFINITY;
    return r;
}

// A weight type without kernels: Unsupported, naming the tensor and the type.
CaseResult run_unsupported_type() {
    std::vector<uint8_t> bytes(row_bytes(GgmlType::IQ2_XXS, 256) * 4, 0);
    MatrixView view;
    view.name = "blk.3.ffn_down.weight";
    view.data = bytes.data();
    view.type = GgmlType::IQ2_XXS;
    view.n_cols = 256;
    view.n_rows = 4;
    view.row_bytes = row_bytes(GgmlType::IQ2_XXS, 256);
    CaseResult r;
    r.error = weight_type_supported(GgmlType::IQ2_XXS) ? INFINITY : 0.0;
    try {
        (void)upload_matrix(view);
        r.error = INFINITY;
    } catch (const Error& e) {
        const std::string msg = e.what();
        const bool named = msg.find("blk.3.ffn_down.weight") != std::string::npos && msg.find("iq2_xxs") != std::string::npos;
        if (e.kind() != ErrorKind::Unsupported || !named) r.error = INFINITY;
    }
    return r;
}

// The device code the library runs (device_limits().code_arch, its own probe kernel) is the code
// this test binary runs: both are built from the same architecture list, so the device picks the
// same variant. PDL is on exactly where that code is sm_90's on an sm_90+ device (and LLCUDA_PDL is
// not 0): a PDL launch of code without griddepcontrol would race with the kernel before.
__global__ void test_code_arch_kernel(int* out) {
#if defined(__CUDA_ARCH__)
    *out = __CUDA_ARCH__;
#endif
}
CaseResult run_code_arch() {
    DeviceArray<int> d(std::vector<int>{0});
    test_code_arch_kernel<<<1, 1>>>(d.get());
    sync_check("test_code_arch_kernel");
    const int here = d.download()[0];
    const DeviceLimits& lim = device_limits();
    const char* env = std::getenv("LLCUDA_PDL");
    const bool pdl_allowed = !(env && *env && std::atoi(env) == 0);
    CaseResult r;
    r.error = here > 0 && lim.code_arch == here && stream_knobs().pdl == (pdl_allowed && lim.cc_major >= 9 && here >= 900)
                  ? 0.0
                  : INFINITY;
    return r;
}

std::string dims(uint32_t rows, uint32_t cols) { return std::to_string(rows) + "x" + std::to_string(cols); }

std::vector<OpCase> matmul_cases() {
    std::vector<OpCase> cases;
    auto add = [&](GgmlType t, uint32_t rows, uint32_t cols, uint32_t n, XKind xk = XKind::Uniform,
                   bool random_quants = false, const char* family = "matmul") {
        static const char* xname[] = {"", " x=huge", " x=tiny", " x=mixed"};
        const double tol = n <= 8 ? kMatvecTol : kGemmTol;
        cases.push_back({family,
                         std::string(ggml_type_name(t)) + " " + dims(rows, cols) + " n=" + std::to_string(n) +
                             xname[int(xk)],
                         tol, [=](bool timed) { return run_matmul(t, rows, cols, n, xk, random_quants, timed); }});
    };
    // Every type at 1001x2048 (a row count that is not a multiple of 16 or of the 2 rows a warp
    // takes): matrix-vector and GEMM token counts, then embedding lookups of the same matrix.
    for (GgmlType t : kAllTypes) {
        for (uint32_t n : {1u, 2u, 3u, 8u, 17u, 64u}) add(t, 1001, 2048, n);
        // Activation magnitudes the f16 tensor-core paths must survive (tile kernels, GEMM).
        if (t == GgmlType::Q4_K || t == GgmlType::Q4_0 || t == GgmlType::Q8_0)
            for (XKind xk : {XKind::Huge, XKind::Tiny, XKind::MixedGroups})
                for (uint32_t n : {1u, 6u, 24u}) add(t, 1001, 2048, n, xk);
        for (float scale : {1.0f, std::sqrt(2048.0f)})
            cases.push_back({"embed_rows", std::string(ggml_type_name(t)) + " 1001x2048 scale=" + std::to_string(scale),
                             kEmbedTol, [=](bool timed) { return run_embed(t, 1001, 2048, scale, timed); }});
        if (t == GgmlType::Q4_K)
            cases.push_back({"embed_rows", "ids out of range give NaN", 0.0, [](bool) { return run_embed_bad_ids(); }});
    }
    cases.push_back({"upload", "iq2_xxs is Unsupported, naming tensor and type", 0.0,
                     [](bool) { return run_unsupported_type(); }});
    cases.push_back({"device", "code arch probe matches the test binary's, PDL only on sm_90 code", 0.0,
                     [](bool) { return run_code_arch(); }});
    // Plain floats with a row length that is not a multiple of 4 or 8 (unaligned activation rows).
    for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::BF16})
        for (uint32_t n : {1u, 3u, 17u}) add(t, 203, 102, n);
    // Q4_0 rows of 33 blocks (a half-filled last 64-column chunk); Q4_K with one super-block.
    for (uint32_t n : {1u, 5u, 17u}) add(GgmlType::Q4_0, 37, 1056, n);
    for (uint32_t n : {1u, 8u}) add(GgmlType::Q4_K, 37, 256, n);
    // The hot types at model shapes (split-K for few rows; several staging passes for long rows
    // and 8 tokens).
    for (GgmlType t : kHotTypes) {
        for (uint32_t n : {1u, 5u, 64u}) add(t, 4096, 4096, n);
        add(t, 1024, 4096, 1);
        for (uint32_t n : {1u, 8u}) add(t, 4096, 14336, n);
        add(t, 14336, 4096, 3);
    }
    // Fusion (RMSNorm in front, y += product), matrix-vector and GEMM token counts; with x=huge the
    // norm must happen before any f16 rounding (the normalized rows are small).
    for (GgmlType t : {GgmlType::Q4_K, GgmlType::Q4_0, GgmlType::Q6_K, GgmlType::Q8_0, GgmlType::F16, GgmlType::Q5_K})
        for (int fuse : {kFuseNorm, kFuseAcc, kFuseBoth})
            for (uint32_t n : {1u, 3u, 8u, 17u, 64u}) {
                static const char* fname[] = {"", " +norm", " +acc", " +norm+acc"};
                const double tol = n <= 8 ? kMatvecTol : kGemmTol;
                cases.push_back({"matmul_fused", std::string(ggml_type_name(t)) + " 1001x2048 n=" + std::to_string(n) + fname[fuse],
                                 tol, [=](bool timed) { return run_matmul(t, 1001, 2048, n, XKind::Uniform, false, timed, fuse); }});
            }
    // Rows-layout types whose x does not fit the shared-memory staging (8 x 14336 floats): x and
    // the norm weight read through L1, the row pair's warps summing x^2.
    for (GgmlType t : {GgmlType::Q6_K, GgmlType::Q8_0, GgmlType::F16})
        cases.push_back({"matmul_fused", std::string(ggml_type_name(t)) + " 300x14336 n=8 +norm+acc (unstaged)", kMatvecTol,
                         [=](bool timed) { return run_matmul(t, 300, 14336, 8, XKind::Uniform, false, timed, kFuseBoth); }});
    for (uint32_t n : {1u, 8u, 24u}) {
        cases.push_back({"matmul_fused", "q4_K 4096x14336 n=" + std::to_string(n) + " +norm+acc", n <= 8 ? kMatvecTol : kGemmTol,
                         [=](bool timed) { return run_matmul(GgmlType::Q4_K, 4096, 14336, n, XKind::Uniform, false, timed, kFuseBoth); }});
        cases.push_back({"matmul_fused", "q6_K 1001x2048 n=" + std::to_string(n) + " x=huge +norm", n <= 8 ? kMatvecTol : kGemmTol,
                         [=](bool timed) { return run_matmul(GgmlType::Q6_K, 1001, 2048, n, XKind::Huge, false, timed, kFuseNorm); }});
        cases.push_back({"matmul_fused", "q4_K 1001x2048 n=" + std::to_string(n) + " x=huge +norm", n <= 8 ? kMatvecTol : kGemmTol,
                         [=](bool timed) { return run_matmul(GgmlType::Q4_K, 1001, 2048, n, XKind::Huge, false, timed, kFuseNorm); }});
    }
    // A token whose row is all zeros, under a norm: its rms is 1/sqrt(eps), and its outputs must be
    // zeros, not the NaN of an overflowed scale, in every product path (1-8 tokens, gemm_tile4, the
    // dequantized band).
    for (GgmlType t : {GgmlType::Q4_K, GgmlType::Q4_0, GgmlType::Q6_K})
        for (uint32_t n : {3u, 17u, 64u})
            cases.push_back({"matmul_fused", std::string(ggml_type_name(t)) + " 1001x2048 n=" + std::to_string(n) + " x=first row zero +norm",
                             n <= 8 ? kMatvecTol : kGemmTol,
                             [=](bool timed) { return run_matmul(t, 1001, 2048, n, XKind::FirstRowZero, false, timed, kFuseNorm); }});
    // Q4_0/Q4_K above 8 tokens: gemm_tile4 (the 16- and 32-token tiles up to 32 tokens, then
    // several 64-token blocks with a partial last one) up to 128 tokens, then
    // the chunk-wise f16 dequantization + cuBLAS (dequant_tile4.cu), also with a half-filled last
    // chunk and a row count that is not a multiple of 16.
    for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q4_K})
        for (uint32_t n : {9u, 16u, 32u, 100u, 300u}) add(t, 1001, 2048, n);
    for (uint32_t n : {12u, 200u}) add(GgmlType::Q4_0, 37, 1056, n);
    // Rows-layout types above 8 tokens: gemm_rows (16-, 32- and 64-token tiles, several token
    // blocks, split-K) up to 64 tokens, then the dequantized band + cuBLAS; a row length that is not
    // a multiple of 256 always takes the band path.
    for (GgmlType t : {GgmlType::Q6_K, GgmlType::Q8_0, GgmlType::Q5_K, GgmlType::Q3_K})
        for (uint32_t n : {9u, 32u, 33u, 100u}) add(t, 1001, 2048, n);
    add(GgmlType::Q6_K, 130, 256, 40);
    for (uint32_t n : {9u, 17u}) add(GgmlType::Q8_0, 37, 1056, n);
    // Llama-3-8B prompt-chunk and batched-decode shapes (bench; random blocks): fused qkv, fused
    // gate+up, down; 16, 32 and 64 tokens (a decode step of that many sequences) and a 512-token chunk.
    for (GgmlType t : {GgmlType::Q4_K, GgmlType::Q4_0, GgmlType::Q6_K, GgmlType::F16})
        for (auto [rows, cols] : {std::pair{6144u, 4096u}, {28672u, 4096u}, {4096u, 14336u}})
            for (uint32_t n : {16u, 32u, 64u, 512u}) add(t, rows, cols, n, XKind::Uniform, true, "gemm_8b");
    for (auto [rows, cols] : {std::pair{28672u, 4096u}, {4096u, 14336u}})
        for (uint32_t n : {16u, 64u}) add(GgmlType::Q8_0, rows, cols, n, XKind::Uniform, true, "gemm_8b");
    for (uint32_t n : {16u, 64u}) add(GgmlType::Q6_K, 128256, 4096, n, XKind::Uniform, true, "gemm_8b");  // output head
    // Resident f16 copies (LoadOptions::f16_weight_copies): the cuBLAS path multiplies the copy
    // whole instead of dequantized bands; below its token counts the copy is not read. Tile and rows
    // layouts, partial last tiles (1001 rows), the fusion, and the 8B prompt shapes (bench).
    for (GgmlType t : {GgmlType::Q4_K, GgmlType::Q4_0, GgmlType::Q6_K, GgmlType::Q8_0, GgmlType::Q5_K, GgmlType::IQ4_XS})
        for (uint32_t n : {17u, 100u, 300u})
            for (int fuse : {int(kFuseNone), int(kFuseBoth)})
                cases.push_back({"matmul_f16copy",
                                 std::string(ggml_type_name(t)) + " 1001x2048 n=" + std::to_string(n) + (fuse ? " +norm+acc" : ""),
                                 kGemmTol, [=](bool timed) { return run_matmul(t, 1001, 2048, n, XKind::Uniform, false, timed, fuse, true); }});
    for (GgmlType t : {GgmlType::Q4_K, GgmlType::Q6_K})
        for (auto [rows, cols] : {std::pair{6144u, 4096u}, {28672u, 4096u}, {4096u, 14336u}})
            for (uint32_t n : {256u, 512u})
                cases.push_back({"gemm_8b", std::string(ggml_type_name(t)) + " " + dims(rows, cols) + " n=" + std::to_string(n) + " f16 copy",
                                 kGemmTol, [=](bool timed) { return run_matmul(t, rows, cols, n, XKind::Uniform, true, timed, kFuseNone, true); }});
    // The small attention products of a batched decode step (o, q + k stacked, k; v as Q6_K): split-K
    // decides how much of the GPU they use.
    for (auto [rows, cols] : {std::pair{4096u, 4096u}, {5120u, 4096u}, {1024u, 4096u}})
        for (uint32_t n : {16u, 64u}) add(GgmlType::Q4_K, rows, cols, n, XKind::Uniform, true, "gemm_8b");
    for (uint32_t n : {16u, 64u}) add(GgmlType::Q6_K, 1024, 4096, n, XKind::Uniform, true, "gemm_8b");
    // Llama-3-8B decode shapes (bench; random blocks): q/o, k/v, gate/up, down, output.
    for (GgmlType t : kHotTypes)
        for (auto [rows, cols] : {std::pair{4096u, 4096u}, {1024u, 4096u}, {14336u, 4096u}, {4096u, 14336u},
                                  {128256u, 4096u}})
            add(t, rows, cols, 1, XKind::Uniform, true, "matvec_8b");
    // The decode products as the forward pass calls them: norm fused into qkv/gate+up, acc into o/down.
    for (GgmlType t : {GgmlType::Q4_K, GgmlType::Q6_K})
        for (auto [rows, cols, fuse] : {std::tuple{6144u, 4096u, int(kFuseNorm)}, {28672u, 4096u, int(kFuseNorm)}, {1024u, 4096u, int(kFuseNorm)},
                                        {4096u, 4096u, int(kFuseAcc)}, {4096u, 14336u, int(kFuseAcc)}})
            cases.push_back({"matvec_8b_fused", std::string(ggml_type_name(t)) + " " + dims(rows, cols) + (fuse == kFuseNorm ? " +norm" : " +acc"),
                             kMatvecTol, [=](bool timed) { return run_matmul(t, rows, cols, 1, XKind::Uniform, true, timed, fuse); }});
    return cases;
}

}  // namespace
LLCUDA_OP_CASES(matmul_cases);
}  // namespace llcuda::cuda::test
