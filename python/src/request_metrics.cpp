#include "request_metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace llcuda_py {

double percentile_linear(const std::vector<double>& sorted, double q) {
    const double rank = q / 100.0 * double(sorted.size() - 1);
    const size_t lo = size_t(std::floor(rank));
    const size_t hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - double(lo));
}

void RequestMetrics::record(double latency_ms, uint64_t generated_tokens) {
    const Clock::time_point end = Clock::now();
    const auto start = end - std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(latency_ms));
    std::lock_guard lock(mutex_);
    latencies_ms_.push_back(latency_ms);
    total_tokens_ += generated_tokens;
    if (!first_start_ || start < *first_start_) first_start_ = start;
    if (!last_end_ || end > *last_end_) last_end_ = end;
}

MetricsSnapshot RequestMetrics::snapshot() const {
    std::vector<double> sorted;
    MetricsSnapshot m;
    double window_s = 0;
    {
        std::lock_guard lock(mutex_);
        sorted = latencies_ms_;
        m.total_tokens = total_tokens_;
        if (first_start_) window_s = std::chrono::duration<double>(*last_end_ - *first_start_).count();
    }
    m.total_requests = m.sample_count = sorted.size();
    if (sorted.empty()) return m;
    std::sort(sorted.begin(), sorted.end());
    m.mean_ms = std::accumulate(sorted.begin(), sorted.end(), 0.0) / double(sorted.size());
    m.p50_ms = percentile_linear(sorted, 50);
    m.p95_ms = percentile_linear(sorted, 95);
    m.p99_ms = percentile_linear(sorted, 99);
    m.min_ms = sorted.front();
    m.max_ms = sorted.back();
    if (window_s > 0) {
        m.tokens_per_sec = double(m.total_tokens) / window_s;
        m.requests_per_sec = double(m.total_requests) / window_s;
    }
    return m;
}

void RequestMetrics::reset() {
    std::lock_guard lock(mutex_);
    latencies_ms_.clear();
    total_tokens_ = 0;
    first_start_.reset();
    last_end_.reset();
}

}  // namespace llcuda_py
