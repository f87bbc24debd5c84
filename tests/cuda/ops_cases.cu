// Normalization, elementwise and greedy-sampling kernels against the CPU reference ops
// (cpu::rms_norm, cpu::silu, cpu::gelu_tanh, std::tanh, std::max_element).
//
// Tolerances: 1e-5 for the norms (the CPU sums squares in double, the GPU in float over a tree:
// the scale differs by a few ulps); 1e-6 for the elementwise ops (expf/tanhf on the device are
// within two ulps of libm); 0 for bias adds and plain residual adds (one float add, exact) and for
// argmax (the error is the number of rows whose id differs).
//
// Bench cases: n_tokens = 1 at Llama-3-8B (d 4096, ff 14336, vocab 128256) and Llama-3.2-1B
// (d 2048, ff 8192) shapes, Gemma-3's 262144 vocabulary for argmax and softcap.
#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "backend/cpu/ops.h"
#include "backend/cuda/kernels.h"
#include "harness.h"

namespace llcuda::cuda::test {
namespace {

std::string shape(uint32_t rows, uint32_t cols) { return std::to_string(rows) + "x" + std::to_string(cols); }

// ---- rms_norm ----

CaseResult run_rms_norm(uint32_t rows, uint32_t dim, bool in_place, bool timed) {
    const float eps = 1e-6f;
    const std::vector<float> x = random_floats(uint64_t(rows) * dim, -2.0f, 2.0f);
    const std::vector<float> w = random_floats(dim, 0.5f, 1.5f);
    DeviceArray<float> dx(x), dw(w), dout(x.size());
    dout.poison();
    float* out = in_place ? dx.get() : dout.get();
    rms_norm(dx.get(), dw.get(), rows, dim, eps, out, nullptr);
    sync_check("rms_norm");
    std::vector<float> ref(x.size());
    for (uint32_t r = 0; r < rows; ++r) cpu::rms_norm(&x[uint64_t(r) * dim], w, eps, &ref[uint64_t(r) * dim]);
    CaseResult res;
    res.error = normalized_error(in_place ? dx.download() : dout.download(), ref);
    res.bytes = (2 * uint64_t(rows) * dim + dim) * sizeof(float);
    if (timed) res.median_us = time_median_us([&] { rms_norm(dx.get(), dw.get(), rows, dim, eps, dout.get(), nullptr); });
    return res;
}

// ---- add_residual: residual += rms_norm(o) * w, or += o ----

CaseResult run_add_residual(uint32_t rows, uint32_t dim, bool post_norm, bool timed) {
    const float eps = 1e-6f;
    const std::vector<float> res0 = random_floats(uint64_t(rows) * dim, -2.0f, 2.0f);
    const std::vector<float> o = random_floats(uint64_t(rows) * dim, -2.0f, 2.0f);
    const std::vector<float> w = random_floats(dim, 0.5f, 1.5f);
    DeviceArray<float> dres(res0), dout(o), dw(w);
    add_residual(dres.get(), dout.get(), post_norm ? dw.get() : nullptr, rows, dim, eps, nullptr);
    sync_check("add_residual");
    std::vector<float> ref = res0, normed(dim);
    for (uint32_t r = 0; r < rows; ++r) {
        const float* orow = &o[uint64_t(r) * dim];
        if (post_norm) cpu::rms_norm(orow, w, eps, normed.data());
        for (uint32_t i = 0; i < dim; ++i) ref[uint64_t(r) * dim + i] += post_norm ? normed[i] : orow[i];
    }
    CaseResult res;
    res.error = normalized_error(dres.download(), ref);
    res.bytes = (3 * uint64_t(rows) * dim + (post_norm ? dim : 0)) * sizeof(float);
    if (timed) {
        res.median_us = time_median_us(
            [&] { add_residual(dres.get(), dout.get(), post_norm ? dw.get() : nullptr, rows, dim, eps, nullptr); });
    }
    return res;
}

// ---- rms_norm_heads: each head of a row normalized in place; columns past the heads untouched ----

CaseResult run_rms_norm_heads(uint32_t rows, uint32_t n_heads, uint32_t head_dim, bool timed) {
    const float eps = 1e-6f;
    const uint32_t stride = n_heads * head_dim + 24;  // a wider row, as when q sits in a fused qkv buffer
    const std::vector<float> x = random_floats(uint64_t(rows) * stride, -2.0f, 2.0f);
    const std::vector<float> w = random_floats(head_dim, 0.5f, 1.5f);
    DeviceArray<float> dx(x), dw(w);
    rms_norm_heads(dx.get(), dw.get(), rows, stride, n_heads, head_dim, eps, nullptr);
    sync_check("rms_norm_heads");
    std::vector<float> ref = x;
    for (uint32_t r = 0; r < rows; ++r) {
        for (uint32_t h = 0; h < n_heads; ++h) {
            float* v = &ref[uint64_t(r) * stride + uint64_t(h) * head_dim];
            cpu::rms_norm(v, w, eps, v);
        }
    }
    CaseResult res;
    res.error = normalized_error(dx.download(), ref);
    res.bytes = (2 * uint64_t(rows) * n_heads * head_dim + head_dim) * sizeof(float);
    if (timed) {
        res.median_us =
            time_median_us([&] { rms_norm_heads(dx.get(), dw.get(), rows, stride, n_heads, head_dim, eps, nullptr); });
    }
    return res;
}

// ---- add_bias ----

CaseResult run_add_bias(uint32_t rows, uint32_t dim, bool timed) {
    const std::vector<float> x = random_floats(uint64_t(rows) * dim);
    const std::vector<float> b = random_floats(dim);
    DeviceArray<float> dx(x), db(b);
    add_bias(dx.get(), db.get(), rows, dim, nullptr);
    sync_check("add_bias");
    std::vector<float> ref = x;
    for (uint32_t r = 0; r < rows; ++r) {
        for (uint32_t i = 0; i < dim; ++i) ref[uint64_t(r) * dim + i] += b[i];
    }
    CaseResult res;
    res.error = normalized_error(dx.download(), ref);
    res.bytes = (2 * uint64_t(rows) * dim + dim) * sizeof(float);
    if (timed) res.median_us = time_median_us([&] { add_bias(dx.get(), db.get(), rows, dim, nullptr); });
    return res;
}

// ---- glu: out = act(gate) * up; `fused` puts gate and up in one buffer (phi3: stride 2 n_ff) ----

CaseResult run_glu(uint32_t rows, uint32_t n_ff, Activation act, bool fused, bool timed) {
    const uint32_t stride = fused ? 2 * n_ff : n_ff;
    const std::vector<float> g = random_floats(uint64_t(rows) * stride, -6.0f, 6.0f);
    const std::vector<float> u = random_floats(uint64_t(rows) * stride, -2.0f, 2.0f);
    DeviceArray<float> dg(g), du(u), dout(uint64_t(rows) * n_ff);
    dout.poison();
    const float* gate = dg.get();
    const float* up = fused ? dg.get() + n_ff : du.get();
    glu(gate, up, rows, n_ff, stride, act, dout.get(), nullptr);
    sync_check("glu");
    std::vector<float> ref(uint64_t(rows) * n_ff);
    for (uint32_t r = 0; r < rows; ++r) {
        for (uint32_t i = 0; i < n_ff; ++i) {
            const float gv = g[uint64_t(r) * stride + i];
            const float uv = fused ? g[uint64_t(r) * stride + n_ff + i] : u[uint64_t(r) * stride + i];
            ref[uint64_t(r) * n_ff + i] = (act == Activation::GeluTanh ? cpu::gelu_tanh(gv) : cpu::silu(gv)) * uv;
        }
    }
    CaseResult res;
    res.error = normalized_error(dout.download(), ref);
    res.bytes = 3 * uint64_t(rows) * n_ff * sizeof(float);
    if (timed) res.median_us = time_median_us([&] { glu(gate, up, rows, n_ff, stride, act, dout.get(), nullptr); });
    return res;
}

// ---- softcap ----

CaseResult run_softcap(uint64_t n, float cap, bool timed) {
    const std::vector<float> x = random_floats(n, -3.0f * cap, 3.0f * cap);
    DeviceArray<float> dx(x);
    softcap(dx.get(), n, cap, nullptr);
    sync_check("softcap");
    std::vector<float> ref = x;
    for (float& v : ref) v = std::tanh(v / cap) * cap;
    CaseResult res;
    res.error = normalized_error(dx.download(), ref);
    res.bytes = 2 * n * sizeof(float);
    if (timed) res.median_us = time_median_us([&] { softcap(dx.get(), n, cap, nullptr); });
    return res;
}

// ---- argmax_rows: each row's maximum is planted twice (ties) at random places ----

// with_scratch: the many-blocks-per-row overload (argmax_scratch_bytes of scratch).
CaseResult run_argmax(uint32_t rows, uint32_t n_vocab, bool with_scratch, bool timed) {
    std::vector<float> x = random_floats(uint64_t(rows) * n_vocab, -10.0f, 10.0f);
    std::mt19937_64& rng = test_rng();
    for (uint32_t r = 0; r < rows; ++r) {
        float* row = &x[uint64_t(r) * n_vocab];
        const uint32_t a = uint32_t(rng() % n_vocab), b = uint32_t(rng() % n_vocab);
        row[a] = row[b] = 11.0f + float(r);
    }
    DeviceArray<float> dx(x);
    DeviceArray<int32_t> ids(rows);
    ids.poison();
    DeviceArray<uint8_t> scratch(argmax_scratch_bytes(rows, n_vocab));
    scratch.poison();  // no initialization needed
    auto launch = [&] {
        if (with_scratch) {
            argmax_rows(dx.get(), rows, n_vocab, ids.get(), scratch.get(), nullptr);
        } else {
            argmax_rows(dx.get(), rows, n_vocab, ids.get(), nullptr);
        }
    };
    launch();
    sync_check("argmax_rows");
    const std::vector<int32_t> got = ids.download();
    CaseResult res;
    res.error = 0;
    for (uint32_t r = 0; r < rows; ++r) {
        const float* row = &x[uint64_t(r) * n_vocab];
        const int32_t want = int32_t(std::max_element(row, row + n_vocab) - row);  // first maximum
        if (got[r] != want) res.error += 1;
    }
    res.bytes = uint64_t(rows) * n_vocab * sizeof(float) + rows * sizeof(int32_t);
    if (timed) res.median_us = time_median_us(launch);
    return res;
}

std::vector<OpCase> ops_cases() {
    std::vector<OpCase> cases;
    auto add = [&](const char* family, std::string name, double tol, std::function<CaseResult(bool)> fn) {
        cases.push_back(OpCase{family, std::move(name), tol, std::move(fn)});
    };
    // rms_norm: Llama-3-8B (bench), SmolLM2, Gemma-3-270M, a row that is not a multiple of 4 (scalar path).
    using Shape = std::pair<uint32_t, uint32_t>;
    // 2 x 20480 and 2 x 9001: rows past the register-held sizes (two passes over memory).
    const Shape norm_shapes[] = {{1, 4096}, {1, 2048}, {7, 576}, {3, 640}, {5, 1001}, {64, 4096}, {16, 4096},
                                 {2, 20480}, {2, 9001}};
    for (const Shape& s : norm_shapes) {
        const uint32_t rows = s.first, dim = s.second;
        add("rms_norm", shape(rows, dim), 1e-5, [=](bool t) { return run_rms_norm(rows, dim, false, t); });
    }
    add("rms_norm", shape(4, 576) + " in place", 1e-5, [](bool t) { return run_rms_norm(4, 576, true, t); });
    const Shape residual_shapes[] = {{1, 4096}, {1, 2048}, {5, 640}, {3, 1001}, {16, 4096}};
    for (const Shape& s : residual_shapes) {
        const uint32_t rows = s.first, dim = s.second;
        add("add_residual", shape(rows, dim) + " post-norm", 1e-5,
            [=](bool t) { return run_add_residual(rows, dim, true, t); });
        add("add_residual", shape(rows, dim), 0.0, [=](bool t) { return run_add_residual(rows, dim, false, t); });
    }
    // q/k norms: Gemma-3-270M (4 heads of 256), Qwen3-like (16 of 128), SmolLM2-like (3 of 64).
    add("rms_norm_heads", "5 rows 4x256", 1e-5, [](bool t) { return run_rms_norm_heads(5, 4, 256, t); });
    add("rms_norm_heads", "3 rows 16x128", 1e-5, [](bool t) { return run_rms_norm_heads(3, 16, 128, t); });
    add("rms_norm_heads", "70 rows 3x64", 1e-5, [](bool t) { return run_rms_norm_heads(70, 3, 64, t); });
    add("rms_norm_heads", "2 rows 3x320", 1e-5, [](bool t) { return run_rms_norm_heads(2, 3, 320, t); });
    add("rms_norm_heads", "2 rows 5x96", 1e-5, [](bool t) { return run_rms_norm_heads(2, 5, 96, t); });
    add("rms_norm_heads", "1 row 32x128", 1e-5, [](bool t) { return run_rms_norm_heads(1, 32, 128, t); });
    add("rms_norm_heads", "1 row 32x64", 1e-5, [](bool t) { return run_rms_norm_heads(1, 32, 64, t); });
    add("add_bias", shape(1, 896), 0.0, [](bool t) { return run_add_bias(1, 896, t); });
    add("add_bias", shape(9, 1001), 0.0, [](bool t) { return run_add_bias(9, 1001, t); });
    add("add_bias", shape(1, 4096), 0.0, [](bool t) { return run_add_bias(1, 4096, t); });
    add("add_bias", shape(1, 2048), 0.0, [](bool t) { return run_add_bias(1, 2048, t); });
    add("add_bias", shape(3, 1026), 0.0, [](bool t) { return run_add_bias(3, 1026, t); });
    // glu: Llama-3-8B SwiGLU (bench), Gemma GeGLU, phi3's fused gate/up, an odd width (scalar path).
    add("glu", shape(1, 14336) + " silu", 1e-6, [](bool t) { return run_glu(1, 14336, Activation::Silu, false, t); });
    add("glu", shape(6, 2048) + " gelu_tanh", 1e-6,
        [](bool t) { return run_glu(6, 2048, Activation::GeluTanh, false, t); });
    add("glu", shape(3, 8192) + " silu fused gate|up", 1e-6,
        [](bool t) { return run_glu(3, 8192, Activation::Silu, true, t); });
    add("glu", shape(4, 1001) + " gelu_tanh", 1e-6,
        [](bool t) { return run_glu(4, 1001, Activation::GeluTanh, false, t); });
    add("glu", shape(1, 14336) + " silu fused gate|up", 1e-6,
        [](bool t) { return run_glu(1, 14336, Activation::Silu, true, t); });
    add("glu", shape(1, 8192) + " silu", 1e-6, [](bool t) { return run_glu(1, 8192, Activation::Silu, false, t); });
    add("glu", shape(16, 14336) + " silu", 1e-6, [](bool t) { return run_glu(16, 14336, Activation::Silu, false, t); });
    add("softcap", "262144x2 cap 30", 1e-6, [](bool t) { return run_softcap(2 * 262144, 30.0f, t); });
    add("softcap", "1001 cap 50", 1e-6, [](bool t) { return run_softcap(1001, 50.0f, t); });
    add("softcap", "128256 cap 30", 1e-6, [](bool t) { return run_softcap(128256, 30.0f, t); });
    // argmax: Gemma-3, Llama-3 and SmolLM2 vocabularies, odd ones (scalar paths), one block per
    // row and with scratch (several blocks per row; the odd 5003 ends in a partial chunk).
    for (const bool scratch : {false, true}) {
        const std::string how = scratch ? " scratch" : "";
        add("argmax_rows", "1x262144" + how, 0.0, [=](bool t) { return run_argmax(1, 262144, scratch, t); });
        add("argmax_rows", "1x128256" + how, 0.0, [=](bool t) { return run_argmax(1, 128256, scratch, t); });
        add("argmax_rows", "8x49152" + how, 0.0, [=](bool t) { return run_argmax(8, 49152, scratch, t); });
        add("argmax_rows", "3x1001" + how, 0.0, [=](bool t) { return run_argmax(3, 1001, scratch, t); });
        add("argmax_rows", "2x5003" + how, 0.0, [=](bool t) { return run_argmax(2, 5003, scratch, t); });
    }
    return cases;
}

LLCUDA_OP_CASES(ops_cases);

}  // namespace
}  // namespace llcuda::cuda::test
