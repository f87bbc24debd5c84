// Per-request latency and throughput figures for InferenceEngine.get_metrics(): the percentiles
// existing llcuda users read (the C++ EngineMetrics keeps only counters and means). Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

namespace llcuda_py {

struct MetricsSnapshot {
    // Latency of each request (whole call, milliseconds). Percentiles interpolate linearly between
    // the two nearest ranks, as numpy.percentile does by default.
    double mean_ms = 0, p50_ms = 0, p95_ms = 0, p99_ms = 0, min_ms = 0, max_ms = 0;
    uint64_t sample_count = 0;
    // Generated tokens and requests over the wall time from the first request's start to the last
    // one's end (requests served at once overlap, so this is not the sum of their latencies).
    uint64_t total_tokens = 0;
    uint64_t total_requests = 0;
    double tokens_per_sec = 0;
    double requests_per_sec = 0;
};

class RequestMetrics {
public:
    using Clock = std::chrono::steady_clock;

    // One finished request that took `latency_ms` and ended now.
    void record(double latency_ms, uint64_t generated_tokens);
    MetricsSnapshot snapshot() const;
    void reset();

private:
    mutable std::mutex mutex_;
    std::vector<double> latencies_ms_;  // one per request, in arrival order
    uint64_t total_tokens_ = 0;
    std::optional<Clock::time_point> first_start_, last_end_;
};

// numpy.percentile(values, q) with the default 'linear' method; `sorted` ascending, not empty.
double percentile_linear(const std::vector<double>& sorted, double q);

}  // namespace llcuda_py
