#include "backend/cuda/kernel_profiler.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace llcuda::cuda {

KernelProfiler::KernelProfiler() {
    const char* env = std::getenv("LLCUDA_PROFILE");
    enabled_ = env && (std::strcmp(env, "1") == 0 || std::strcmp(env, "decode") == 0);
    decode_only_mode_ = enabled_ && std::strcmp(env, "decode") == 0;
}

KernelProfiler::~KernelProfiler() {
    if (!enabled_) return;
    cudaDeviceSynchronize();
    collect();
    double total = 0;
    for (const auto& [label, t] : totals_) total += t.first;
    std::vector<std::pair<std::string, std::pair<double, long>>> rows(totals_.begin(), totals_.end());
    std::sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.second.first > b.second.first; });
    std::fprintf(stderr, "llcuda profile: %ld forward passes, %.3f ms of kernels per pass\n", passes_,
                 passes_ ? total / passes_ : 0.0);
    std::fprintf(stderr, "  %-24s %12s %10s %8s\n", "kernel", "us / pass", "launches", "share");
    for (const auto& [label, t] : rows) {
        std::fprintf(stderr, "  %-24s %12.1f %10ld %7.1f%%\n", label.c_str(), passes_ ? 1000 * t.first / passes_ : 0.0,
                     passes_ ? t.second / passes_ : t.second, 100 * t.first / total);
    }
    for (auto e : free_events_) cudaEventDestroy(e);
}

cudaEvent_t KernelProfiler::take_event() {
    if (free_events_.empty()) {
        cudaEvent_t e;
        CUDA_CHECK(cudaEventCreate(&e));
        return e;
    }
    cudaEvent_t e = free_events_.back();
    free_events_.pop_back();
    return e;
}

void KernelProfiler::begin(const char* label, cudaStream_t stream) {
    Pending p{label, take_event(), take_event()};
    CUDA_CHECK(cudaEventRecord(p.start, stream));
    pending_.push_back(p);
}

void KernelProfiler::end(cudaStream_t stream) { CUDA_CHECK(cudaEventRecord(pending_.back().stop, stream)); }

void KernelProfiler::collect() {
    for (const Pending& p : pending_) {
        float ms = 0;
        if (cudaEventElapsedTime(&ms, p.start, p.stop) == cudaSuccess) {
            auto& t = totals_[p.label];
            t.first += ms;
            t.second += 1;
        }
        free_events_.push_back(p.start);
        free_events_.push_back(p.stop);
    }
    pending_.clear();
}

}  // namespace llcuda::cuda
