// Per-kernel timing of the CUDA backend's forward pass, for finding what limits decode speed:
// LLCUDA_PROFILE=1 turns graphs off and brackets every launch with device events; the totals per
// kernel kind (time per forward pass, share of the pass) are printed to stderr when the backend is
// destroyed. Off by default: it costs two event records per launch.
#pragma once

#include <cuda_runtime.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "backend/cuda/cuda_check.h"

namespace llcuda::cuda {

class KernelProfiler {
public:
    KernelProfiler();
    ~KernelProfiler();
    bool enabled() const { return enabled_; }

    // Brackets one launch (or a few) on `stream` under `label`.
    void begin(const char* label, cudaStream_t stream);
    void end(cudaStream_t stream);
    // Call after the stream has been synchronized: reads the pending events.
    void collect();
    void count_pass() { passes_ += enabled_; }

private:
    struct Pending {
        const char* label;
        cudaEvent_t start, stop;
    };
    cudaEvent_t take_event();

    bool enabled_ = false;
    std::vector<Pending> pending_;
    std::vector<cudaEvent_t> free_events_;
    std::map<std::string, std::pair<double, long>> totals_;  // label -> (ms, launches)
    long passes_ = 0;
};

// Runs `call` bracketed by the profiler when it is on.
template <class F>
void profiled(KernelProfiler& p, const char* label, cudaStream_t stream, F&& call) {
    if (!p.enabled()) return call();
    p.begin(label, stream);
    call();
    p.end(stream);
}

}  // namespace llcuda::cuda
