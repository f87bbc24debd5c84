// Per-kernel timing of the CUDA backend's forward pass, for finding what limits decode speed:
// LLCUDA_PROFILE=1 turns graphs off and brackets every launch with device events; the totals per
// kernel kind (time per forward pass, share of the pass) are printed to stderr when the backend is
// destroyed. LLCUDA_PROFILE=decode does the same for decode-only passes (one token per sequence)
// and leaves prompt passes alone, so that a batched-decode step is not mixed with prefill.
// Off by default: it costs two event records per launch.
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
    // True while the current pass is being profiled (see start_pass).
    bool enabled() const { return active_; }

    // Brackets one launch (or a few) on `stream` under `label`.
    void begin(const char* label, cudaStream_t stream);
    void end(cudaStream_t stream);
    // Call after the stream has been synchronized: reads the pending events.
    void collect();
    // Called at the start of every forward pass: decides whether this pass is profiled.
    void start_pass(bool decode_only) {
        active_ = enabled_ && (!decode_only_mode_ || decode_only);
        passes_ += active_;
    }

private:
    struct Pending {
        const char* label;
        cudaEvent_t start, stop;
    };
    cudaEvent_t take_event();

    bool enabled_ = false;
    bool decode_only_mode_ = false;  // LLCUDA_PROFILE=decode
    bool active_ = false;
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
