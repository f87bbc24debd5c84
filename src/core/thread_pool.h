// A fixed set of worker threads for data-parallel loops (matmul rows, attention heads).
// parallel_for splits [0, n) into contiguous chunks, one per thread, and returns when all are done;
// the calling thread takes a chunk itself. Exceptions from the body are rethrown in the caller.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace llcuda {

class ThreadPool {
public:
    explicit ThreadPool(unsigned n_threads);  // 0: hardware concurrency
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;
    ~ThreadPool();

    unsigned size() const { return unsigned(workers_.size()) + 1; }
    // body(begin, end) over disjoint chunks covering [0, n).
    void parallel_for(size_t n, const std::function<void(size_t, size_t)>& body);

private:
    void worker_loop(unsigned index);

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable start_cv_, done_cv_;
    const std::function<void(size_t, size_t)>* body_ = nullptr;
    size_t n_ = 0;
    uint64_t generation_ = 0;
    unsigned pending_ = 0;
    bool stopping_ = false;
    std::exception_ptr error_;
};

}  // namespace llcuda
