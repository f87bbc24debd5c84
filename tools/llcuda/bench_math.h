// The statistics and ceilings every `llcuda bench` row uses (cmd_bench.cpp's pp/tg rows and
// bench_parallel.cpp's batched rows; docs/bench.md explains the ceilings).
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "llcuda/devices.h"
#include "llcuda/engine.h"

namespace llcuda::cli {

struct MeanSd {
    double mean = 0, sd = 0;  // sample standard deviation (0 for one sample)
};

inline MeanSd mean_sd(const std::vector<double>& v) {
    MeanSd m;
    for (double x : v) m.mean += x / double(v.size());
    double ss = 0;
    for (double x : v) ss += (x - m.mean) * (x - m.mean);
    m.sd = v.size() > 1 ? std::sqrt(ss / double(v.size() - 1)) : 0.0;
    return m;
}

// "41.7 %", or "-" without a ceiling.
inline std::string percent_of(double value, const std::optional<double>& ceiling) {
    return ceiling ? fmt::format("{:.1f} %", 100.0 * value / *ceiling) : "-";
}

// Prompt tokens per second: tensor-core rate / (2 FLOPs per parameter per token).
inline std::optional<double> prefill_ceiling(const ModelInfo& info, const DeviceCeilings& c) {
    if (info.n_parameters == 0) return std::nullopt;
    return c.tensor_tflops * 1e12 / (2.0 * double(info.n_parameters));
}

// Generated tokens per second over n_seq sequences decoding together, each from `start` positions
// for n_gen steps: a step reads the weights once and each sequence's KV cache (step i attends to
// start + i + 1 positions, so the mean context is start + (n_gen + 1) / 2).
inline std::optional<double> decode_ceiling(const ModelInfo& info, const DeviceCeilings& c, uint32_t n_seq,
                                            uint32_t start, uint32_t n_gen) {
    if (info.weight_bytes_per_token == 0) return std::nullopt;
    const double mean_context = double(start) + (double(n_gen) + 1.0) / 2.0;
    const double bytes_per_step =
        double(info.weight_bytes_per_token) + double(n_seq) * double(info.kv_bytes_per_position) * mean_context;
    return double(n_seq) * c.copy_gb_per_s * 1e9 / bytes_per_step;
}

}  // namespace llcuda::cli
