#include "engine/generation.h"

#include <chrono>
#include <memory>

#include <fmt/format.h>

#include "engine/sampler.h"
#include "engine/stop_matcher.h"
#include "llcuda/error.h"

namespace llcuda {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// A KV-cache sequence returned to the pool when its owner ends (also on errors).
class SequenceGuard {
public:
    explicit SequenceGuard(KvBlockTable& kv) : kv_(&kv), seq_(kv.create_sequence()) {}
    ~SequenceGuard() { kv_->free_sequence(seq_); }
    SequenceGuard(const SequenceGuard&) = delete;
    SequenceGuard& operator=(const SequenceGuard&) = delete;
    KvBlockTable::SeqId id() const { return seq_; }

private:
    KvBlockTable* kv_;
    KvBlockTable::SeqId seq_;
};

// One request's state while it runs.
struct Active {
    Active(InferenceEngine::State& s, const GenerationRequest& r)
        : request(&r), sampler(r.params, s.config.n_vocab), decoder(*s.tokenizer), stops(r.params.stop), seq(*s.kv) {}

    const GenerationRequest* request;
    Sampler sampler;
    StreamDecoder decoder;
    StopMatcher stops;
    SequenceGuard seq;
    InferenceResult result;
    uint32_t n_fed = 0;           // tokens already in the KV cache
    int32_t next_token = -1;      // sampled, not yet fed
    bool done = false;
    Clock::time_point t_start, t_gen;

    uint32_t prompt_size() const { return uint32_t(request->prompt.size()); }
    bool in_prompt() const { return n_fed < prompt_size(); }
};

void record_metrics(InferenceEngine::State& s, const InferenceResult& r) {
    s.metrics.n_requests += 1;
    s.metrics.n_prompt_tokens += r.n_prompt_tokens;
    s.metrics.n_generated_tokens += r.n_generated_tokens;
    s.sum_latency_ms += r.latency_ms;
    s.metrics.mean_latency_ms = s.sum_latency_ms / double(s.metrics.n_requests);
    if (r.n_generated_tokens > 0) {
        s.sum_tokens_per_sec += r.tokens_per_sec;
        s.metrics.mean_tokens_per_sec = s.sum_tokens_per_sec / double(++s.n_rate_samples);
    }
}

// Streams a piece of text to the request; false when its callback asked to stop.
bool emit(Active& a, const std::string& piece) {
    if (piece.empty()) return true;
    a.result.text += piece;
    return a.request->callback ? (*a.request->callback)(piece) : true;
}

void finish(InferenceEngine::State& s, Active& a, FinishReason reason) {
    a.done = true;
    a.result.finish_reason = reason;
    if (reason != FinishReason::Cancelled && !a.stops.stopped()) {
        emit(a, a.stops.push(a.decoder.finish()));
        if (!a.stops.stopped()) emit(a, a.stops.finish());
        else a.result.finish_reason = FinishReason::StopString;
    }
    const double gen_ms = ms_since(a.t_gen);
    a.result.latency_ms = ms_since(a.t_start);
    a.result.tokens_per_sec = gen_ms > 0 ? a.result.n_generated_tokens / (gen_ms / 1000.0) : 0;
    record_metrics(s, a.result);
}

// Takes the token chosen for a request after its last fed position.
void accept_token(InferenceEngine::State& s, Active& a, int32_t token, TokenLogprob* lp) {
    const SamplingParams& p = a.request->params;
    if (!p.ignore_eos && s.end_of_generation.count(token)) return finish(s, a, FinishReason::Stop);
    a.sampler.accept(token);
    a.result.tokens.push_back(token);
    ++a.result.n_generated_tokens;
    if (lp) {
        lp->text = s.tokenizer->decode(std::vector<int32_t>{token});
        a.result.logprobs.push_back(std::move(*lp));
    }
    if (!emit(a, a.stops.push(a.decoder.push(token)))) return finish(s, a, FinishReason::Cancelled);
    if (a.stops.stopped()) return finish(s, a, FinishReason::StopString);
    if (a.result.n_generated_tokens >= p.max_tokens) return finish(s, a, FinishReason::Length);
    if (a.n_fed + 1 >= s.n_ctx) return finish(s, a, FinishReason::Length);  // context full
    a.next_token = token;
}

}  // namespace

void check_in_vocabulary(const InferenceEngine::State& s, const std::vector<int32_t>& tokens) {
    for (int32_t t : tokens) {
        if (t < 0 || uint32_t(t) >= s.config.n_vocab) {
            throw Error(ErrorKind::InvalidArgument, fmt::format("token id {} is outside the vocabulary", t));
        }
    }
}

void check_prompt(const InferenceEngine::State& s, const std::vector<int32_t>& tokens) {
    if (tokens.empty()) throw Error(ErrorKind::InvalidArgument, "the prompt is empty (it has no tokens)");
    if (tokens.size() >= s.n_ctx) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("the prompt has {} tokens but the context holds {} (leave room to generate)",
                                tokens.size(), s.n_ctx));
    }
    check_in_vocabulary(s, tokens);
}

std::vector<InferenceResult> run_generation(InferenceEngine::State& s, const std::vector<GenerationRequest>& requests) {
    for (const auto& r : requests) {
        validate(r.params);
        check_prompt(s, r.prompt);
    }
    std::vector<InferenceResult> results;
    // Requests run in waves of at most max_sequences (each holds a KV sequence of up to n_ctx).
    const size_t wave = std::max<size_t>(1, s.options.max_sequences);
    for (size_t first = 0; first < requests.size(); first += wave) {
        std::vector<std::unique_ptr<Active>> active;
        for (size_t i = first; i < std::min(requests.size(), first + wave); ++i) {
            auto a = std::make_unique<Active>(s, requests[i]);
            a->t_start = Clock::now();
            a->result.n_prompt_tokens = a->prompt_size();
            for (int32_t t : requests[i].prompt) a->sampler.accept(t);
            active.push_back(std::move(a));
        }
        std::vector<float> logits;                 // (rows, n_vocab) when whole rows are copied
        std::vector<CandidateRequest> requests;    // one per logits row
        std::vector<std::vector<int32_t>> extras;  // each row's penalized ids (requests point at them)
        std::vector<RowCandidates> candidates;
        for (;;) {
            // Pack: every generating request feeds one token; prompt chunks fill the rest of the budget.
            // (A page table is taken right after its own reserve(); other sequences' reservations
            // never move it.)
            Batch batch;
            std::vector<std::pair<Active*, uint32_t>> fed;  // request, tokens in its cache after this step
            std::vector<Active*> rows;                       // the request of each logits row
            uint32_t budget = s.max_step_tokens;
            for (auto& a : active) {
                if (a->done || a->in_prompt() || budget == 0) continue;
                s.kv->reserve(a->seq.id(), a->n_fed + 1);
                batch.sequences.push_back({std::span<const int32_t>(&a->next_token, 1), a->n_fed,
                                           s.kv->blocks(a->seq.id()), 1});
                fed.emplace_back(a.get(), a->n_fed + 1);
                rows.push_back(a.get());
                --budget;
            }
            for (auto& a : active) {
                if (a->done || !a->in_prompt() || budget == 0) continue;
                const uint32_t n = std::min({budget, a->prompt_size() - a->n_fed, s.options.prefill_chunk});
                const bool last = a->n_fed + n == a->prompt_size();
                s.kv->reserve(a->seq.id(), a->n_fed + n);
                batch.sequences.push_back({std::span<const int32_t>(a->request->prompt).subspan(a->n_fed, n), a->n_fed,
                                           s.kv->blocks(a->seq.id()), last ? 1u : 0u});
                fed.emplace_back(a.get(), a->n_fed + n);
                if (last) rows.push_back(a.get());
                budget -= n;
            }
            if (batch.sequences.empty()) break;
            s.backend->forward(batch);
            for (auto& [a, n_fed] : fed) a->n_fed = n_fed;
            // The cheapest way that samples every row of the step exactly: token ids reduced where the
            // logits live (argmax), candidates pre-selected there (top_candidates: only they cross to
            // the host), or whole rows when some request's top-k is disabled.
            bool all_argmax = true, all_candidates = true;
            requests.clear();
            extras.resize(rows.size());
            for (size_t r = 0; r < rows.size(); ++r) {
                const Sampler& sampler = rows[r]->sampler;
                all_argmax = all_argmax && sampler.argmax_suffices();
                uint32_t n_top = 0;
                all_candidates = all_candidates && sampler.candidate_request(extras[r], n_top);
                requests.push_back({uint32_t(r), n_top, extras[r]});
            }
            std::vector<int32_t> ids;
            if (all_argmax) ids = s.backend->argmax();
            else if (all_candidates) s.backend->top_candidates(requests, candidates);
            else s.backend->copy_logits(logits);
            for (size_t r = 0; r < rows.size(); ++r) {
                Active& a = *rows[r];
                if (a.result.n_generated_tokens == 0 && a.next_token < 0) {
                    a.result.prompt_ms = ms_since(a.t_start);
                    a.t_gen = Clock::now();
                }
                TokenLogprob lp;
                const bool want_lp = a.request->params.logprobs > 0;
                int32_t token;
                if (all_argmax) {
                    token = ids[r];
                } else if (all_candidates) {
                    token = a.sampler.sample_candidates(candidates[r], want_lp ? &lp : nullptr);
                } else {
                    token = a.sampler.sample(std::span<const float>(&logits[r * s.config.n_vocab], s.config.n_vocab),
                                             want_lp ? &lp : nullptr);
                }
                if (a.request->params.max_tokens == 0) {
                    finish(s, a, FinishReason::Length);
                    continue;
                }
                accept_token(s, a, token, want_lp ? &lp : nullptr);
            }
        }
        for (auto& a : active) results.push_back(std::move(a->result));
    }
    return results;
}

void run_prompt(InferenceEngine::State& s, const std::vector<int32_t>& tokens, bool all_rows,
                const std::function<void(uint32_t, const float*)>& on_row) {
    SequenceGuard seq(*s.kv);
    s.kv->reserve(seq.id(), uint32_t(tokens.size()));
    std::vector<float> logits;
    const uint32_t chunk = std::min({s.options.prefill_chunk, s.max_step_tokens, all_rows ? s.max_logit_rows : s.max_step_tokens});
    for (uint32_t begin = 0; begin < tokens.size(); begin += chunk) {
        const uint32_t n = std::min<uint32_t>(chunk, uint32_t(tokens.size()) - begin);
        const bool last_chunk = begin + n == tokens.size();
        Batch batch;
        batch.sequences.push_back({std::span<const int32_t>(tokens).subspan(begin, n), begin, s.kv->blocks(seq.id()),
                                   all_rows ? n : (last_chunk ? 1u : 0u)});
        s.backend->forward(batch);
        if (batch.n_logit_rows() == 0) continue;
        s.backend->copy_logits(logits);
        if (all_rows) {
            for (uint32_t i = 0; i < n; ++i) on_row(begin + i, &logits[uint64_t(i) * s.config.n_vocab]);
        } else {
            on_row(uint32_t(tokens.size()) - 1, logits.data());
        }
    }
}

}  // namespace llcuda
