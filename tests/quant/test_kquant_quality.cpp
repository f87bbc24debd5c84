// Quality of the searched quantizers (K-quants, IQ4, and the legacy ones for comparison), where no
// byte-exact oracle is available here:
//  * llama.cpp's acceptance test (tests/test-quantize-fns.cpp): on x_i = 0.1 + 2 cos(i + offset),
//    sqrt(sum sq. error) / n must stay below 0.002 (0.0075 for 2-bit, 0.004 for 3-bit types);
//  * properties that must hold: more bits give lower error on Gaussian data; a K-quant beats the
//    legacy type of the same size; an importance matrix lowers the error it weights; quantizing
//    is deterministic for any thread count; the decoder of what we encode is the (golden-verified)
//    dequantizer, so every error below is measured through the format, not through our encoder.
// The measured figures are printed (and recorded as test properties) for docs/quant.md.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <random>

#include "llcuda/gguf.h"
#include "llcuda/quantize.h"
#include "test_paths.h"

namespace llcuda::test {
namespace {

struct Errors {
    double rmse = 0, max_abs = 0, ggml_metric = 0, weighted = 0;
};

// Gaussian values from a fixed-seed Box-Muller on mt19937 (portable across standard libraries).
std::vector<float> gaussian(size_t n, uint32_t seed, float sigma = 1.0f) {
    std::mt19937 gen(seed);
    std::vector<float> v(n);
    for (size_t i = 0; i < n; i += 2) {
        const double u1 = (double(gen()) + 1.0) / 4294967297.0, u2 = double(gen()) / 4294967296.0;
        const double r = std::sqrt(-2.0 * std::log(u1));
        v[i] = float(sigma * r * std::cos(6.283185307179586 * u2));
        if (i + 1 < n) v[i + 1] = float(sigma * r * std::sin(6.283185307179586 * u2));
    }
    return v;
}

Errors roundtrip(GgmlType type, const std::vector<float>& x, uint64_t n_per_row,
                 std::span<const float> imatrix = {}) {
    QuantizeOptions options;
    options.imatrix = imatrix;
    const auto q = quantize(type, x, n_per_row, options);
    std::vector<float> y(x.size());
    dequantize(type, q, y);
    Errors e;
    double sum = 0, wsum = 0, wnorm = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        const double d = double(x[i]) - double(y[i]);
        sum += d * d;
        e.max_abs = std::max(e.max_abs, std::fabs(d));
        const double w = imatrix.empty() ? 1.0 : imatrix[i % n_per_row];
        wsum += w * d * d;
        wnorm += w;
    }
    e.rmse = std::sqrt(sum / double(x.size()));
    e.ggml_metric = std::sqrt(sum) / double(x.size());
    e.weighted = std::sqrt(wsum / wnorm);
    return e;
}

const std::vector<GgmlType> kSearched = {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K,
                                         GgmlType::Q6_K, GgmlType::IQ4_NL, GgmlType::IQ4_XS};

TEST(QuantQuality, LlamaCppAcceptanceThresholds) {
    const size_t n = 32 * 128;  // test-quantize-fns' test_size
    for (float offset : {0.0f, 1.0f}) {
        std::vector<float> x(n);
        for (size_t i = 0; i < n; ++i) x[i] = 0.1f + 2.0f * std::cos(float(i) + offset);
        for (GgmlType type : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                              GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K,
                              GgmlType::IQ4_NL, GgmlType::IQ4_XS, GgmlType::MXFP4, GgmlType::TQ1_0,
                              GgmlType::TQ2_0}) {
            const double limit = type == GgmlType::Q2_K ? 0.0075
                                 : type == GgmlType::Q3_K ? 0.0040
                                 : (type == GgmlType::TQ1_0 || type == GgmlType::TQ2_0) ? 1e9  // ternary: not
                                                                                            // meant for cos data
                                 : 0.002;
            const Errors e = roundtrip(type, x, n);
            EXPECT_LT(e.ggml_metric, limit) << ggml_type_name(type) << " offset " << offset;
        }
    }
}

TEST(QuantQuality, GaussianErrorFallsWithBits) {
    const uint64_t n_per_row = 4096;
    const auto x = gaussian(n_per_row * 64, 1234);
    std::printf("  %-7s %10s %10s  (N(0,1), 64 x 4096)\n", "type", "rmse", "max|err|");
    std::map<GgmlType, Errors> errs;
    for (GgmlType type : {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q4_K,
                          GgmlType::IQ4_NL, GgmlType::IQ4_XS, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q5_K,
                          GgmlType::Q6_K, GgmlType::Q8_0, GgmlType::MXFP4}) {
        errs[type] = roundtrip(type, x, n_per_row);
        std::printf("  %-7s %10.6f %10.6f\n", ggml_type_name(type), errs[type].rmse, errs[type].max_abs);
        ::testing::Test::RecordProperty(std::string("rmse_") + ggml_type_name(type), std::to_string(errs[type].rmse));
    }
    using T = GgmlType;
    EXPECT_GT(errs[T::Q2_K].rmse, errs[T::Q3_K].rmse);
    EXPECT_GT(errs[T::Q3_K].rmse, errs[T::Q4_K].rmse);
    EXPECT_GT(errs[T::Q4_K].rmse, errs[T::Q5_K].rmse);
    EXPECT_GT(errs[T::Q5_K].rmse, errs[T::Q6_K].rmse);
    EXPECT_GT(errs[T::Q6_K].rmse, errs[T::Q8_0].rmse);
    // Same storage size, smarter scales: Q4_K (4.5 bpw) beats Q4_0 (4.5), Q5_K (5.5) beats Q5_0 (5.5),
    // IQ4_NL (4.5) beats Q4_0, IQ4_XS (4.25) beats Q4_0 (4.5).
    EXPECT_LT(errs[T::Q4_K].rmse, errs[T::Q4_0].rmse);
    EXPECT_LT(errs[T::Q5_K].rmse, errs[T::Q5_0].rmse);
    EXPECT_LT(errs[T::IQ4_NL].rmse, errs[T::Q4_0].rmse);
    EXPECT_LT(errs[T::IQ4_XS].rmse, errs[T::Q4_0].rmse);
    // Sanity against the ideal: a b-bit uniform quantizer cannot beat ~range / 2^b / sqrt(12);
    // none of these may be worse than 3x the plain Q4_0/Q5_0 step for their bit class.
    for (auto& [type, e] : errs) EXPECT_LT(e.rmse, 0.75) << ggml_type_name(type);
}

TEST(QuantQuality, RealWeightsErrorFallsWithBits) {
    // Real weights: 512 rows of SmolLM2's token embedding (stored Q8_0, so close to the original
    // bf16 values), 576 columns; the K-quants need whole 256-blocks, so use the first 512 columns.
    LLCUDA_REQUIRE_FILE(smollm2_path());
    const GgufFile file = GgufFile::open(smollm2_path());
    const GgufTensorInfo* info = file.contents().find_tensor("token_embd.weight");
    ASSERT_NE(info, nullptr);
    const uint64_t ne0 = info->ne[0], n_rows = 512, n_per_row = 512;
    std::vector<float> full(ne0 * n_rows);
    dequantize(info->type, file.tensor_data(*info).first(ggml_row_bytes(info->type, ne0) * n_rows), full);
    std::vector<float> x;
    for (uint64_t r = 0; r < n_rows; ++r) x.insert(x.end(), full.begin() + r * ne0, full.begin() + r * ne0 + n_per_row);
    double sq = 0;
    for (float v : x) sq += double(v) * v;
    const double rms = std::sqrt(sq / double(x.size()));
    std::printf("  %-7s %10s %10s %10s  (SmolLM2 token_embd, 512 x 512, rms %.5f)\n", "type", "rmse", "rel.rmse",
                "max|err|", rms);
    std::map<GgmlType, Errors> errs;
    for (GgmlType type : {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_0, GgmlType::Q4_K, GgmlType::IQ4_NL,
                          GgmlType::IQ4_XS, GgmlType::Q5_0, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::Q8_0}) {
        errs[type] = roundtrip(type, x, n_per_row);
        std::printf("  %-7s %10.6f %10.5f %10.6f\n", ggml_type_name(type), errs[type].rmse, errs[type].rmse / rms,
                    errs[type].max_abs);
    }
    using T = GgmlType;
    EXPECT_GT(errs[T::Q2_K].rmse, errs[T::Q3_K].rmse);
    EXPECT_GT(errs[T::Q3_K].rmse, errs[T::Q4_K].rmse);
    EXPECT_GT(errs[T::Q4_K].rmse, errs[T::Q5_K].rmse);
    EXPECT_GT(errs[T::Q5_K].rmse, errs[T::Q6_K].rmse);
    EXPECT_LT(errs[T::Q4_K].rmse, errs[T::Q4_0].rmse);
    EXPECT_LT(errs[T::Q5_K].rmse, errs[T::Q5_0].rmse);
}

TEST(QuantQuality, ImportanceMatrixLowersWeightedError) {
    const uint64_t n_per_row = 1024;
    const auto x = gaussian(n_per_row * 32, 99);
    // A skewed importance matrix: a few columns matter 100x more (as outlier activations do).
    std::vector<float> imatrix(n_per_row);
    std::mt19937 gen(7);
    for (auto& w : imatrix) w = (gen() % 16 == 0) ? 100.0f : 1.0f;
    for (GgmlType type : {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K,
                          GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::IQ4_NL,
                          GgmlType::IQ4_XS}) {
        const Errors plain = roundtrip(type, x, n_per_row);
        const Errors plain_w = [&] {  // unweighted quantization, weighted measurement
            QuantizeOptions o;
            const auto q = quantize(type, x, n_per_row, o);
            std::vector<float> y(x.size());
            dequantize(type, q, y);
            double s = 0, wn = 0;
            for (size_t i = 0; i < x.size(); ++i) {
                const double d = x[i] - y[i], w = imatrix[i % n_per_row];
                s += w * d * d;
                wn += w;
            }
            Errors e;
            e.weighted = std::sqrt(s / wn);
            return e;
        }();
        const Errors weighted = roundtrip(type, x, n_per_row, imatrix);
        std::printf("  %-7s weighted rmse: plain %.6f  with imatrix %.6f  (unweighted %.6f)\n",
                    ggml_type_name(type), plain_w.weighted, weighted.weighted, plain.rmse);
        EXPECT_LT(weighted.weighted, plain_w.weighted) << ggml_type_name(type);
    }
}

TEST(QuantQuality, DeterministicAcrossThreadCounts) {
    const uint64_t n_per_row = 512;
    const auto x = gaussian(n_per_row * 37, 5);
    for (GgmlType type : kSearched) {
        QuantizeOptions one, many;
        one.n_threads = 1;
        many.n_threads = 4;
        EXPECT_EQ(quantize(type, x, n_per_row, one), quantize(type, x, n_per_row, many)) << ggml_type_name(type);
    }
}

TEST(QuantQuality, EdgeRowsStayFinite) {
    // Zeros, constants, single spikes, tiny and huge magnitudes must give finite, close values.
    const uint64_t n = 256;
    std::vector<std::vector<float>> rows = {std::vector<float>(n, 0.0f), std::vector<float>(n, 1.5f),
                                            std::vector<float>(n, -3.0f), gaussian(n, 3, 1e-8f),
                                            gaussian(n, 4, 1e4f)};
    rows.push_back(std::vector<float>(n, 0.0f));
    rows.back()[17] = 7.0f;
    for (GgmlType type : kSearched) {
        for (const auto& x : rows) {
            const auto q = quantize(type, x, n);
            std::vector<float> y(n);
            dequantize(type, q, y);
            float amax = 0;
            for (float v : x) amax = std::max(amax, std::fabs(v));
            // Scales below the f16 range (amax ~1e-8) flush to zero: then only "no garbage" holds.
            const float bound = amax < 1e-4f ? 1.5f * amax + 1e-7f : 0.6f * amax;
            for (size_t i = 0; i < n; ++i) {
                ASSERT_TRUE(std::isfinite(y[i])) << ggml_type_name(type);
                ASSERT_LE(std::fabs(y[i] - x[i]), bound) << ggml_type_name(type) << " i=" << i;
            }
        }
    }
}

}  // namespace
}  // namespace llcuda::test
