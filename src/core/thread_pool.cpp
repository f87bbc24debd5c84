#include "core/thread_pool.h"

#include <algorithm>

namespace llcuda {

namespace {
// The chunk of [0, n) that participant `index` of `count` handles.
std::pair<size_t, size_t> chunk_of(size_t n, unsigned index, unsigned count) {
    const size_t per = n / count, extra = n % count;
    const size_t begin = index * per + std::min<size_t>(index, extra);
    return {begin, begin + per + (index < extra ? 1 : 0)};
}
}  // namespace

ThreadPool::ThreadPool(unsigned n_threads) {
    if (n_threads == 0) n_threads = std::max(1u, std::thread::hardware_concurrency());
    for (unsigned i = 1; i < n_threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    start_cv_.notify_all();
    for (auto& t : workers_) t.join();
}

void ThreadPool::worker_loop(unsigned index) {
    uint64_t seen = 0;
    for (;;) {
        const std::function<void(size_t, size_t)>* body;
        size_t n;
        {
            std::unique_lock lock(mutex_);
            start_cv_.wait(lock, [&] { return stopping_ || generation_ != seen; });
            if (stopping_) return;
            seen = generation_;
            body = body_;
            n = n_;
        }
        const auto [begin, end] = chunk_of(n, index, size());
        std::exception_ptr error;
        if (begin < end) {
            try {
                (*body)(begin, end);
            } catch (...) {
                error = std::current_exception();
            }
        }
        std::lock_guard lock(mutex_);
        if (error && !error_) error_ = error;
        if (--pending_ == 0) done_cv_.notify_one();
    }
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t, size_t)>& body) {
    if (workers_.empty() || n < 2) {
        if (n) body(0, n);
        return;
    }
    {
        std::lock_guard lock(mutex_);
        body_ = &body;
        n_ = n;
        pending_ = unsigned(workers_.size());
        error_ = nullptr;
        ++generation_;
    }
    start_cv_.notify_all();
    std::exception_ptr error;
    const auto [begin, end] = chunk_of(n, 0, size());
    try {
        if (begin < end) body(begin, end);
    } catch (...) {
        error = std::current_exception();
    }
    std::unique_lock lock(mutex_);
    done_cv_.wait(lock, [&] { return pending_ == 0; });
    if (!error) error = error_;
    if (error) std::rethrow_exception(error);
}

}  // namespace llcuda
