#include "engine/generation.h"

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "llcuda/error.h"

namespace llcuda {

namespace {

double ms_since(GenClock::time_point t) {
    return std::chrono::duration<double, std::milli>(GenClock::now() - t).count();
}

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

void emit(RequestState& r, const std::string& piece) {
    r.result.text += piece;
    r.pending_text += piece;
}

// Takes the token chosen after the request's last known token.
void accept_token(InferenceEngine::State& s, RequestState& r, int32_t token, TokenLogprob* lp) {
    const SamplingParams& p = r.params;
    if (!p.ignore_eos && s.end_of_generation.count(token)) return finish(s, r, FinishReason::Stop);
    r.sampler.accept(token);
    r.tokens.push_back(token);
    r.result.tokens.push_back(token);
    ++r.result.n_generated_tokens;
    r.pending_tokens.push_back(token);
    if (lp) {
        lp->text = s.tokenizer->decode(std::vector<int32_t>{token});
        r.result.logprobs.push_back(*lp);
        r.pending_logprobs.push_back(std::move(*lp));
    }
    emit(r, r.stops.push(r.decoder.push(token)));
    if (r.stops.stopped()) return finish(s, r, FinishReason::StopString);
    if (r.result.n_generated_tokens >= p.max_tokens) return finish(s, r, FinishReason::Length);
    if (r.tokens.size() >= s.n_ctx) return finish(s, r, FinishReason::Length);  // context full
}

}  // namespace

RequestState::RequestState(const InferenceEngine::State& s, std::vector<int32_t> prompt, const SamplingParams& p)
    : params(p),
      sampler(p, s.config.n_vocab,
              is_constrained(p) ? s.grammar_vocabulary.get(*s.tokenizer, s.config.n_vocab, s.end_of_generation) : nullptr),
      decoder(*s.tokenizer), stops(p.stop), tokens(std::move(prompt)) {
    n_prompt = uint32_t(tokens.size());
    result.n_prompt_tokens = n_prompt;
    for (int32_t t : tokens) sampler.accept(t);
    t_start = GenClock::now();
}

void finish(InferenceEngine::State& s, RequestState& r, FinishReason reason) {
    if (r.done) return;
    r.done = true;
    r.result.finish_reason = reason;
    if (reason != FinishReason::Cancelled && !r.stops.stopped()) {
        emit(r, r.stops.push(r.decoder.finish()));
        if (!r.stops.stopped()) emit(r, r.stops.finish());
        else r.result.finish_reason = FinishReason::StopString;
    }
    if (r.result.n_generated_tokens == 0 && r.result.prompt_ms == 0) {
        r.result.prompt_ms = ms_since(r.t_start);
        r.t_gen = GenClock::now();
    }
    const double gen_ms = ms_since(r.t_gen);
    r.result.latency_ms = ms_since(r.t_start);
    r.result.tokens_per_sec = gen_ms > 0 ? r.result.n_generated_tokens / (gen_ms / 1000.0) : 0;
    record_metrics(s, r.result);
}

void sample_step(InferenceEngine::State& s, const std::vector<RequestState*>& rows, StepScratch& scratch) {
    // The cheapest way that samples every row of the step exactly: token ids reduced where the
    // logits live (argmax), candidates pre-selected there (top_candidates: only they cross to
    // the host; a constrained row's grammar mask goes with its request, so they are chosen among
    // the allowed tokens), or whole rows when some request's top-k is disabled (or a constrained
    // one wants log-probabilities).
    // Grammar masks first: the forward pass was only queued (on the GPU it is still running), and
    // the reads below wait for it, so the masks are computed in its shadow.
    for (RequestState* r : rows) r->sampler.prepare_mask();
    bool all_argmax = true, all_candidates = true;
    scratch.requests.clear();
    scratch.extras.resize(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
        Sampler& sampler = rows[i]->sampler;
        all_argmax = all_argmax && sampler.argmax_suffices();
        uint32_t n_top = 0;
        all_candidates = all_candidates && sampler.candidate_request(scratch.extras[i], n_top);
        // The mask is the sampler's copy for this step: valid until its accept(), after the backend call.
        scratch.requests.push_back({uint32_t(i), n_top, scratch.extras[i], sampler.allowed_mask()});
    }
    std::vector<int32_t> ids;
    if (all_argmax) ids = s.backend->argmax();
    else if (all_candidates) s.backend->top_candidates(scratch.requests, scratch.candidates);
    else s.backend->copy_logits(scratch.logits);
    for (size_t i = 0; i < rows.size(); ++i) {
        RequestState& r = *rows[i];
        if (r.result.n_generated_tokens == 0 && r.result.prompt_ms == 0) {
            r.result.prompt_ms = ms_since(r.t_start);
            r.t_gen = GenClock::now();
        }
        TokenLogprob lp;
        const bool want_lp = r.params.logprobs > 0;
        int32_t token;
        if (all_argmax) {
            token = ids[i];
        } else if (all_candidates) {
            token = r.sampler.sample_candidates(scratch.candidates[i], want_lp ? &lp : nullptr);
        } else {
            token = r.sampler.sample(std::span<const float>(&scratch.logits[i * s.config.n_vocab], s.config.n_vocab),
                                     want_lp ? &lp : nullptr);
        }
        if (r.params.max_tokens == 0) {
            finish(s, r, FinishReason::Length);
            continue;
        }
        accept_token(s, r, token, want_lp ? &lp : nullptr);
    }
}

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

void run_prompt(InferenceEngine::State& s, const std::vector<int32_t>& tokens, bool all_rows,
                const std::function<void(uint32_t, const float*)>& on_row) {
    const KvBlockTable::SeqId seq = s.kv->create_sequence();
    struct Free {  // the sequence returns to the pool on errors too
        KvBlockTable& kv;
        KvBlockTable::SeqId seq;
        ~Free() { kv.free_sequence(seq); }
    } free_seq{*s.kv, seq};
    s.kv->reserve(seq, uint32_t(tokens.size()));
    std::vector<float> logits;
    const uint32_t chunk = std::min({s.options.prefill_chunk, s.max_step_tokens, all_rows ? s.max_logit_rows : s.max_step_tokens});
    for (uint32_t begin = 0; begin < tokens.size(); begin += chunk) {
        const uint32_t n = std::min<uint32_t>(chunk, uint32_t(tokens.size()) - begin);
        const bool last_chunk = begin + n == tokens.size();
        Batch batch;
        batch.sequences.push_back({std::span<const int32_t>(tokens).subspan(begin, n), begin, s.kv->blocks(seq),
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
