#include "metrics.h"

#include <fmt/format.h>

namespace llcuda::server {

void Histogram::observe(double seconds) {
    size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) ++i;
    if (i < kBounds.size()) ++counts_[i];
    ++count_;
    sum_ += seconds;
}

void Histogram::write(std::string& out, const std::string& name, const std::string& help) const {
    out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBounds.size(); ++i) {
        cumulative += counts_[i];
        out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, kBounds[i], cumulative);
    }
    out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, count_, name, sum_, name, count_);
}

void Metrics::request_done(const std::string& route, int status) {
    std::lock_guard lock(mutex_);
    ++requests_[{route, status}];
}

void Metrics::tokens(uint64_t prompt, uint64_t generated) {
    std::lock_guard lock(mutex_);
    prompt_tokens_ += prompt;
    generated_tokens_ += generated;
}

void Metrics::time_to_first_token(double seconds) {
    std::lock_guard lock(mutex_);
    ttft_.observe(seconds);
}

void Metrics::inter_token(double seconds) {
    std::lock_guard lock(mutex_);
    itl_.observe(seconds);
}

std::string Metrics::prometheus(const SchedulerStats& s, uint32_t in_flight) const {
    std::lock_guard lock(mutex_);
    std::string out;
    auto counter = [&](const char* name, const char* help, auto v) {  // counts, or seconds as a double
        out += fmt::format("# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, help, name, name, v);
    };
    auto gauge = [&](const char* name, const char* help, uint64_t v) {
        out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name, help, name, name, v);
    };
    out += "# HELP llcuda_requests_total HTTP requests answered, by route and status.\n"
           "# TYPE llcuda_requests_total counter\n";
    for (const auto& [key, n] : requests_) {
        out += fmt::format("llcuda_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", key.first, key.second, n);
    }
    counter("llcuda_prompt_tokens_total", "Prompt tokens of finished generations.", prompt_tokens_);
    counter("llcuda_generation_tokens_total", "Tokens generated.", generated_tokens_);
    gauge("llcuda_requests_in_flight", "Generation requests being answered (running or queued).", in_flight);
    gauge("llcuda_sequences_running", "Sequences in the scheduler's running batch.", s.running);
    gauge("llcuda_sequences_waiting", "Sequences waiting to be scheduled (new or preempted).", s.waiting);
    out += "# HELP llcuda_kv_blocks KV-cache blocks by state: used (held by requests), cached (held only by the prefix cache), free.\n"
           "# TYPE llcuda_kv_blocks gauge\n";
    out += fmt::format("llcuda_kv_blocks{{state=\"used\"}} {}\nllcuda_kv_blocks{{state=\"cached\"}} {}\n"
                       "llcuda_kv_blocks{{state=\"free\"}} {}\n",
                       s.kv_blocks_used, s.kv_blocks_cached, s.kv_blocks_free);
    counter("llcuda_prefix_cache_queries_total", "Prompt tokens looked up in the prefix cache.", s.prefix_cache_queries);
    counter("llcuda_prefix_cache_hits_total", "Prompt tokens whose keys/values came from the prefix cache.", s.prefix_cache_hits);
    counter("llcuda_preemptions_total", "Sequences preempted (KV dropped, recomputed later).", s.preemptions);
    counter("llcuda_forward_passes_total", "Batched forward passes run by the scheduler.", s.steps);
    counter("llcuda_step_seconds_total",
            "Wall time of the scheduler's steps: packing, forward pass, sampling, delivery.", s.step_seconds);
    counter("llcuda_forward_seconds_total",
            "Of that, the forward passes and sampling (until the sampled ids are on the host).", s.forward_seconds);
    ttft_.write(out, "llcuda_time_to_first_token_seconds", "Time from request arrival to the first generated token.");
    itl_.write(out, "llcuda_inter_token_latency_seconds", "Time between consecutive generated tokens of a request.");
    return out;
}

}  // namespace llcuda::server
