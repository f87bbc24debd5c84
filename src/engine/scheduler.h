// Continuous batching (docs/scheduler.md): every call on an InferenceEngine becomes a Job handed to
// one Scheduler, whose background thread runs steps until no work is left. Each step
//   1. drops cancelled requests (their KV blocks return at once),
//   2. admits waiting requests while fewer than max_sequences run and the pool has room, attaching
//      the prefix cache's blocks for the longest cached start of their tokens,
//   3. packs one decode token per generating request and prompt chunks of the others under the
//      step's token budget (chunked prefill), growing page tables; when the pool runs out, the
//      most recently admitted requests are preempted (blocks freed, recomputed later),
//   4. runs ONE forward pass, samples each finished row with its request's own parameters,
//      publishes newly full blocks to the prefix cache and hands the new output to each Job.
// Callers wait on their Job in their own thread and run their stream callbacks there, so a slow
// callback never stalls the step loop (and a Python callback never needs the GIL on our thread).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/engine_state.h"
#include "engine/generation.h"

namespace llcuda {

// One request's mailbox between the step loop and the calling thread.
struct Job {
    struct Piece {
        std::string text;
        std::vector<int32_t> tokens;
        std::vector<TokenLogprob> logprobs;
    };
    std::unique_ptr<RequestState> request;  // the step loop's, from submit until finished
    bool streaming = false;
    std::atomic<bool> cancel{false};        // set by the caller; the step loop frees the request

    std::mutex mutex;
    std::condition_variable cv;
    std::deque<Piece> pieces;               // streamed output not yet taken by the caller
    bool finished = false;
    InferenceResult result;                 // valid once finished without error
    std::exception_ptr error;
};

class Scheduler {
public:
    // How often wait() asks its still_wanted: short next to a request's run, long next to a syscall.
    static constexpr std::chrono::milliseconds kStillWantedPoll{50};

    explicit Scheduler(InferenceEngine::State& s);
    ~Scheduler();  // fails the jobs still queued and joins the step thread
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Queues a checked prompt (check_prompt, validate) for generation.
    std::shared_ptr<Job> submit(std::vector<int32_t> prompt, const SamplingParams& params, bool streaming);
    // Waits for the job in the calling thread, passing each streamed piece to `callback` (may be
    // null) and asking `still_wanted` (may be null or empty) every kStillWantedPoll. When either
    // returns false the job is cancelled: the result then holds what was delivered, with finish
    // reason Cancelled (a job still queued leaves at the next step). Rethrows an error the step loop met.
    InferenceResult wait(Job& job, const PieceCallback* callback, const std::function<bool()>* still_wanted = nullptr);
    SchedulerStats stats() const;

private:
    struct Entry {
        std::shared_ptr<Job> job;
        KvBlockTable::SeqId seq = 0;
        bool has_seq = false;
        bool admitted_before = false;
    };

    void loop();
    bool step();  // with s_.mutex held; whether it ran a forward pass
    void admit();
    void preempt(Entry& e);
    void release(Entry& e);
    void deliver(Entry& e);
    void wake(const std::shared_ptr<Job>& job);
    void flush_wakeups();
    void fail(Entry& e, std::exception_ptr error);
    void update_stats();

    InferenceEngine::State& s_;
    std::mutex queue_mutex_;
    std::condition_variable queue_cv_;
    std::deque<std::shared_ptr<Job>> incoming_;  // submitted, not yet seen by the step loop
    bool stop_ = false;

    // Step-loop thread only.
    std::deque<Entry> waiting_;
    std::vector<Entry> running_;
    StepScratch scratch_;
    // Deferred wake-ups: where the backend's forward() returns while the device computes, a step's
    // callers are woken after the NEXT pass is queued, not before, so that the device does not
    // wait on the system calls (one futex wake per caller, ~5-20 us each). Output is already in
    // each Job; only the notification waits. Flushed before the loop could block.
    bool defer_wakeups_ = false;
    std::vector<std::shared_ptr<Job>> pending_wakeups_;

    mutable std::mutex stats_mutex_;
    SchedulerStats stats_;
    std::thread thread_;  // last: started after everything above exists
};

}  // namespace llcuda
