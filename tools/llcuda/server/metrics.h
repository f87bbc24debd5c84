// The server's counters and latency histograms, and /metrics in Prometheus' text format (names
// prefixed llcuda_; the engine's scheduler gauges are read at scrape time).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "llcuda/engine.h"

namespace llcuda::server {

class Histogram {
public:
    static constexpr std::array<double, 14> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                       0.25,  0.5,    1,     2.5,  5,     10,  30};
    void observe(double seconds);
    void write(std::string& out, const std::string& name, const std::string& help) const;

private:
    std::array<uint64_t, kBounds.size()> counts_{};  // non-cumulative per bucket
    uint64_t count_ = 0;
    double sum_ = 0;
};

class Metrics {
public:
    void request_done(const std::string& route, int status);
    void tokens(uint64_t prompt, uint64_t generated);
    void time_to_first_token(double seconds);
    void inter_token(double seconds);
    std::string prometheus(const SchedulerStats& s, uint32_t in_flight) const;

private:
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, uint64_t> requests_;
    uint64_t prompt_tokens_ = 0, generated_tokens_ = 0;
    Histogram ttft_, itl_;
};

}  // namespace llcuda::server
