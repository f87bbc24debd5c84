#include "engine/scheduler.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "llcuda/error.h"

namespace llcuda {

namespace {

// LLCUDA_DEFER_NOTIFY=0|1 overrides the default (deferred where forward() returns early), for A/B runs.
bool defer_wakeups_for(const ComputeBackend& backend) {
    const char* v = std::getenv("LLCUDA_DEFER_NOTIFY");
    if (v && (std::string(v) == "0" || std::string(v) == "1")) return std::string(v) == "1";
    return backend.forward_returns_early();
}

}  // namespace

Scheduler::Scheduler(InferenceEngine::State& s) : s_(s), defer_wakeups_(defer_wakeups_for(*s.backend)) {
    update_stats();
    thread_ = std::thread([this] { loop(); });
}

Scheduler::~Scheduler() {
    {
        std::lock_guard lock(queue_mutex_);
        stop_ = true;
    }
    queue_cv_.notify_all();
    thread_.join();
}

std::shared_ptr<Job> Scheduler::submit(std::vector<int32_t> prompt, const SamplingParams& params, bool streaming) {
    auto job = std::make_shared<Job>();
    job->request = std::make_unique<RequestState>(s_, std::move(prompt), params);
    job->streaming = streaming;
    {
        std::lock_guard lock(queue_mutex_);
        if (stop_) throw Error(ErrorKind::InvalidArgument, "the engine is shutting down");
        incoming_.push_back(job);
    }
    queue_cv_.notify_one();
    {
        std::lock_guard lock(stats_mutex_);
        ++stats_.waiting;
    }
    return job;
}

InferenceResult Scheduler::wait(Job& job, const PieceCallback* callback, const std::function<bool()>* still_wanted) {
    std::string delivered_text;
    size_t delivered_tokens = 0;
    bool cancelled = false;
    const bool polled = still_wanted && *still_wanted;
    auto next_poll = std::chrono::steady_clock::now() + kStillWantedPoll;
    std::unique_lock lock(job.mutex);
    for (;;) {
        const auto ready = [&] { return job.finished || !job.pieces.empty(); };
        if (polled && !cancelled) {
            // Asked on a clock, not only when idle, so a stream of pieces cannot hide a lost caller.
            job.cv.wait_until(lock, next_poll, ready);
            if (!job.finished && std::chrono::steady_clock::now() >= next_poll) {
                lock.unlock();  // may be a system call (a server peeks at its client's socket)
                const bool wanted = (*still_wanted)();
                lock.lock();
                next_poll = std::chrono::steady_clock::now() + kStillWantedPoll;
                if (!wanted) {
                    cancelled = true;
                    job.cancel = true;  // the step loop drops it at its next step, queued or running
                }
            }
        } else {
            job.cv.wait(lock, ready);
        }
        while (!job.pieces.empty()) {
            Job::Piece piece = std::move(job.pieces.front());
            job.pieces.pop_front();
            if (cancelled || !callback) continue;
            lock.unlock();  // the callback may take long: the step loop must be able to post meanwhile
            delivered_text += piece.text;
            delivered_tokens += piece.tokens.size();
            const bool go_on = (*callback)(StreamPiece{piece.text, piece.tokens, piece.logprobs});
            lock.lock();
            if (!go_on) {
                cancelled = true;
                job.cancel = true;
            }
        }
        if (job.finished && job.pieces.empty()) break;
    }
    if (job.error) std::rethrow_exception(job.error);
    InferenceResult result = std::move(job.result);
    if (cancelled) {
        // What the caller saw is the result: the step loop may have run a token or two further.
        result.finish_reason = FinishReason::Cancelled;
        result.text = std::move(delivered_text);
        delivered_tokens = std::min(delivered_tokens, result.tokens.size());
        result.tokens.resize(delivered_tokens);
        result.n_generated_tokens = uint32_t(delivered_tokens);
        if (result.logprobs.size() > delivered_tokens) result.logprobs.resize(delivered_tokens);
    }
    return result;
}

SchedulerStats Scheduler::stats() const {
    std::lock_guard lock(stats_mutex_);
    return stats_;
}

void Scheduler::loop() {
    for (;;) {
        std::deque<std::shared_ptr<Job>> arrived;
        if (running_.empty() && waiting_.empty()) flush_wakeups();  // the wait below may block
        {
            std::unique_lock lock(queue_mutex_);
            queue_cv_.wait(lock, [&] { return stop_ || !incoming_.empty() || !running_.empty() || !waiting_.empty(); });
            if (stop_) break;
            arrived.swap(incoming_);
        }
        for (auto& job : arrived) waiting_.push_back(Entry{std::move(job)});
        const auto t0 = std::chrono::steady_clock::now();
        std::unique_lock engine_lock(s_.mutex, std::try_to_lock);  // score() and bench() run between steps
        if (!engine_lock.owns_lock()) {  // they may take long: nobody waits on us meanwhile
            flush_wakeups();
            engine_lock.lock();
        }
        bool forwarded = false;
        try {
            forwarded = step();
        } catch (...) {  // a broken invariant: fail what runs rather than lose the thread
            const auto error = std::current_exception();
            for (auto& e : running_) fail(e, error);
            running_.clear();
        }
        if (!forwarded) flush_wakeups();  // no pass queued to hide them behind
        update_stats();
        if (forwarded) {
            std::lock_guard lock(stats_mutex_);
            stats_.step_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        }
    }
    // Shutting down: nobody will run what is left.
    flush_wakeups();
    std::lock_guard engine_lock(s_.mutex);
    const auto error = std::make_exception_ptr(Error(ErrorKind::InvalidArgument, "the engine was unloaded"));
    for (auto& e : running_) fail(e, error);
    for (auto& e : waiting_) fail(e, error);
    std::lock_guard lock(queue_mutex_);
    for (auto& job : incoming_) {
        Entry e{job};
        fail(e, error);
    }
}

void Scheduler::release(Entry& e) {
    if (!e.has_seq) return;
    s_.kv->free_sequence(e.seq);
    e.has_seq = false;
}

void Scheduler::deliver(Entry& e) {
    RequestState& r = *e.job->request;
    const bool has_output = !r.pending_text.empty() || !r.pending_tokens.empty();
    if (!r.done && !(e.job->streaming && has_output)) {  // nothing for the caller yet: no lock, no wake-up
        r.pending_text.clear();
        r.pending_tokens.clear();
        r.pending_logprobs.clear();
        return;
    }
    {
        std::lock_guard lock(e.job->mutex);
        if (e.job->streaming && has_output) {
            e.job->pieces.push_back({std::move(r.pending_text), std::move(r.pending_tokens), std::move(r.pending_logprobs)});
        }
        r.pending_text.clear();
        r.pending_tokens.clear();
        r.pending_logprobs.clear();
        if (r.done) {
            e.job->result = std::move(r.result);
            e.job->finished = true;
        }
    }
    if (r.done) update_stats();  // the caller wakes to gauges that no longer count its blocks
    wake(e.job);
}

void Scheduler::wake(const std::shared_ptr<Job>& job) {
    if (defer_wakeups_) pending_wakeups_.push_back(job);
    else job->cv.notify_all();
}

void Scheduler::flush_wakeups() {
    for (const auto& job : pending_wakeups_) job->cv.notify_all();
    pending_wakeups_.clear();
}

void Scheduler::fail(Entry& e, std::exception_ptr error) {
    release(e);
    {
        std::lock_guard lock(e.job->mutex);
        e.job->error = error;
        e.job->finished = true;
    }
    e.job->cv.notify_all();
}

void Scheduler::preempt(Entry& e) {
    // Recomputation: the request keeps its tokens, sampler and output; only its keys/values go. Its
    // full blocks stay in the prefix cache (published every step), so if nobody evicts them in the
    // meantime the recomputation is mostly cache hits.
    release(e);
    e.job->request->n_fed = 0;
    std::lock_guard lock(stats_mutex_);
    ++stats_.preemptions;
}

void Scheduler::admit() {
    KvBlockTable& kv = *s_.kv;
    while (!waiting_.empty() && running_.size() < s_.options.max_sequences) {
        Entry& e = waiting_.front();
        RequestState& r = *e.job->request;
        // Room for its whole known tokens plus the next one, unless nothing runs (a lone request
        // always fits: the pool holds at least one full context).
        if (!running_.empty() && kv.n_available_blocks() < kv.blocks_for(r.tokens.size() + 1)) break;
        e.seq = kv.create_sequence();
        e.has_seq = true;
        uint32_t hit = 0;
        // At least one token is computed again: its logits choose the next token.
        if (s_.options.prefix_cache) hit = kv.attach_prefix(e.seq, r.tokens, uint32_t(r.tokens.size()) - 1);
        r.n_fed = hit;
        if (!e.admitted_before) {
            r.result.n_cached_prompt_tokens = hit;
            std::lock_guard lock(stats_mutex_);
            stats_.prefix_cache_queries += r.n_prompt;
            stats_.prefix_cache_hits += hit;
        }
        e.admitted_before = true;
        running_.push_back(std::move(e));
        waiting_.pop_front();
    }
}

bool Scheduler::step() {
    // 1. Cancelled requests leave first, so their blocks serve this step.
    auto drop_cancelled = [&](auto& list) {
        for (auto it = list.begin(); it != list.end();) {
            if (it->job->cancel) {
                finish(s_, *it->job->request, FinishReason::Cancelled);
                release(*it);
                deliver(*it);
                it = list.erase(it);
            } else {
                ++it;
            }
        }
    };
    drop_cancelled(running_);
    drop_cancelled(waiting_);

    // 2. Admission, in arrival order (preempted requests wait at the front).
    admit();
    if (running_.empty()) return false;

    // 3. Packing. Decode tokens first claim their share of the budget; prompt chunks share the rest.
    KvBlockTable& kv = *s_.kv;
    uint32_t n_decode = 0;
    for (const auto& e : running_) n_decode += e.job->request->to_feed() == 1;
    uint32_t prefill_budget = s_.max_step_tokens > n_decode ? s_.max_step_tokens - n_decode : 0;
    Batch batch;
    std::vector<std::pair<RequestState*, uint32_t>> fed;  // request, positions in its cache after this step
    std::vector<RequestState*> rows;                       // the request of each logits row
    for (size_t i = 0; i < running_.size();) {
        RequestState& r = *running_[i].job->request;
        const bool decode = r.to_feed() == 1;
        const uint32_t n = decode ? 1 : std::min({r.to_feed(), prefill_budget, s_.options.prefill_chunk});
        if (n == 0) {
            ++i;
            continue;
        }
        // Room in the pool: evicting cached blocks is implicit in reserve(); beyond that the most
        // recently admitted request not yet packed gives its blocks back (preemption).
        bool packed = false;
        for (;;) {
            try {
                kv.reserve(running_[i].seq, r.n_fed + n);
                packed = true;
                break;
            } catch (const Error& e) {
                if (e.kind() != ErrorKind::OutOfMemory) throw;
            }
            if (running_.size() - 1 > i) {
                preempt(running_.back());
                waiting_.push_front(std::move(running_.back()));
                running_.pop_back();
                continue;
            }
            if (i > 0) {  // it is the last itself: it waits for the ones before it
                preempt(running_[i]);
                waiting_.push_front(std::move(running_[i]));
                running_.erase(running_.begin() + long(i));
                break;
            }
            fail(running_[i], std::make_exception_ptr(Error(
                                  ErrorKind::OutOfMemory,
                                  fmt::format("KV cache is full: one request needs {} positions, the pool holds {} blocks of {}",
                                              r.n_fed + n, kv.shape().n_blocks, kv.shape().block_size))));
            running_.erase(running_.begin());
            break;
        }
        if (!packed) continue;  // running_[i] is now the next request (or none)
        // (A page table is taken right after its own reserve(); later reservations and preemptions
        // only touch other sequences' tables.)
        const bool last = r.n_fed + n == r.tokens.size();
        batch.sequences.push_back({std::span<const int32_t>(r.tokens).subspan(r.n_fed, n), r.n_fed,
                                   kv.blocks(running_[i].seq), last ? 1u : 0u});
        fed.emplace_back(&r, r.n_fed + n);
        if (last) rows.push_back(&r);
        if (!decode) prefill_budget -= n;
        ++i;
    }
    if (batch.sequences.empty()) return false;

    // 4. One forward pass for everyone; an error there fails the requests it carried.
    const auto t_forward = std::chrono::steady_clock::now();
    try {
        s_.backend->forward(batch);
        flush_wakeups();  // the last step's callers, while the device runs this pass
        for (auto& [r, n_fed] : fed) r->n_fed = n_fed;
        if (s_.options.prefix_cache) {
            for (auto& e : running_) kv.publish(e.seq, e.job->request->tokens, e.job->request->n_fed);
        }
        sample_step(s_, rows, scratch_);
    } catch (...) {
        const auto error = std::current_exception();
        for (auto& e : running_) fail(e, error);
        running_.clear();
        return false;
    }
    {
        std::lock_guard lock(stats_mutex_);
        ++stats_.steps;
        stats_.forward_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t_forward).count();
    }
    for (auto it = running_.begin(); it != running_.end();) {
        const bool done = it->job->request->done;
        if (done) release(*it);  // blocks back before the caller even wakes
        deliver(*it);
        it = done ? running_.erase(it) : it + 1;
    }
    return true;
}

void Scheduler::update_stats() {
    std::lock_guard lock(stats_mutex_);
    // Requests finished this step are still listed until the step ends: count only live ones.
    stats_.running = uint32_t(std::count_if(running_.begin(), running_.end(),
                                            [](const Entry& e) { return !e.job->request->done; }));
    size_t incoming = 0;
    {
        std::lock_guard q(queue_mutex_);
        incoming = incoming_.size();
    }
    stats_.waiting = uint32_t(waiting_.size() + incoming);
    stats_.kv_blocks_total = s_.kv->shape().n_blocks;
    stats_.kv_blocks_used = s_.kv->n_used_blocks();
    stats_.kv_blocks_cached = s_.kv->n_cached_blocks();
    stats_.kv_blocks_free = s_.kv->n_free_blocks();
}

}  // namespace llcuda
