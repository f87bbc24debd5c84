// The one interface every backend implements: a forward pass over a ragged batch of sequences.
//
// A batch holds, for each sequence, a span of new tokens at consecutive positions starting at
// `start`, and the sequence's page table (the KV-cache block holding positions
// [i * block_size, (i + 1) * block_size) is blocks[i]). One call runs every sequence through every
// layer, appends the new keys and values to the backend's KV storage through the page tables, and
// keeps the logits of the last `n_logits` tokens of each sequence (in batch order), which the
// caller then copies out or reduces to token ids on the device (greedy).
//
// A prefill chunk of one request, the single decode tokens of others and a scoring pass that wants
// every row all fit in one Batch, which is what continuous batching is built on. Block allocation
// (which blocks a sequence owns) is the caller's job (kv/kv_blocks.h); a backend owns only the
// storage behind the block ids.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "llcuda/error.h"

namespace llcuda {

struct SequenceChunk {
    std::span<const int32_t> tokens;    // new tokens, at positions [start, start + tokens.size())
    uint32_t start = 0;
    std::span<const uint32_t> blocks;   // page table; must cover positions [0, start + tokens.size())
    uint32_t n_logits = 0;              // logits kept for the last n_logits tokens (<= tokens.size())
};

struct Batch {
    std::vector<SequenceChunk> sequences;

    uint32_t n_tokens() const {
        uint32_t n = 0;
        for (const auto& s : sequences) n += uint32_t(s.tokens.size());
        return n;
    }
    uint32_t n_logit_rows() const {
        uint32_t n = 0;
        for (const auto& s : sequences) n += s.n_logits;
        return n;
    }
};

// ---- Candidate pre-selection for sampling (so that a logits row need not cross to the host) ----
//
// The host sampler (engine/sampler.h) needs, for a row with top-k enabled, only the tokens that can
// survive top-k after the penalties. Penalties change only the logits of the tokens in the penalty
// window H (distinct ids), so every token outside H keeps its raw logit. Take T = the n >= k + |H|
// highest raw logits (ties: lower id first). A token x outside T ∪ H is beaten, in the sampler's
// strict order (logit descending, then id ascending), by every token of T \ H: those keep their raw
// logits, and T holds at least k of them. So x is not among the k best after the penalties, and the
// top-k of the whole penalized row equals the top-k of the penalized T ∪ H: same tokens, same order,
// hence the same chain and the same draw. The logprobs' top n (n <= 20) are the first n of T when
// n <= |T|, and the chosen token's log-probability needs only its raw logit and the row's
// log-sum-exp. The engine asks for n = max(k + |H|, logprobs) (k = 1 for greedy rows), and copies
// whole rows when top-k is disabled.
//
// With a grammar, the sampler's chain runs on the allowed tokens A only (top-k among A). The same
// argument holds with A in place of the vocabulary and H ∩ A in place of H: a request may carry A
// as a bitmask, and then T is the n highest raw logits among A (all of A when |A| <= n) and only the
// extras in A come back. The log-sum-exp stays that of the whole raw row (log-probabilities are the
// model's, not the grammar's).

struct TokenLogit {
    int32_t id = 0;
    float logit = 0;  // raw: as the forward pass produced it
};

// One logits row's request.
struct CandidateRequest {
    uint32_t row = 0;                      // index among the last forward pass's logits rows
    uint32_t n_top = 0;                    // 1 .. min(n_vocab, kMaxTopCandidates)
    std::span<const int32_t> extra;        // ids whose raw logits are wanted too (the penalty window H)
    // The tokens that may be chosen (a grammar's mask): bit t of word t / 64 set = allowed,
    // (n_vocab + 63) / 64 words, bits at n_vocab and above ignored. Empty: every token.
    std::span<const uint64_t> allowed;
};

struct RowCandidates {
    // The min(n_top, allowed tokens) highest raw logits among the allowed tokens: logit descending,
    // ties by lower id.
    std::vector<TokenLogit> top;
    std::vector<TokenLogit> extra;         // the raw logit of each requested extra id that is allowed, in request order
    float log_sum_exp = 0;                 // log Σ exp(logit) over the whole raw row, allowed or not
};

// Whether `allowed` (a CandidateRequest mask; empty = everything) allows token `id` (< n_vocab).
inline bool token_allowed(std::span<const uint64_t> allowed, int32_t id) {
    return allowed.empty() || ((allowed[size_t(id) >> 6] >> (uint32_t(id) & 63)) & 1);
}

// How many of the tokens [0, n_vocab) `allowed` allows (n_vocab when it is empty).
inline uint32_t count_allowed(std::span<const uint64_t> allowed, uint32_t n_vocab) {
    if (allowed.empty()) return n_vocab;
    uint32_t n = 0;
    const size_t full = n_vocab / 64;
    for (size_t w = 0; w < full; ++w) n += uint32_t(std::popcount(allowed[w]));
    if (n_vocab % 64) n += uint32_t(std::popcount(allowed[full] & ((uint64_t(1) << (n_vocab % 64)) - 1)));
    return n;
}

// Most top candidates one request may ask for (the CUDA kernel sorts them in shared memory).
constexpr uint32_t kMaxTopCandidates = 2048;

// The reference row log-sum-exp: max + log Σ exp(l - max), summed in double in id order. The CPU
// backend and Sampler::sample compute exactly this (so their log-probabilities agree bit for bit);
// other backends agree to float rounding.
inline float log_sum_exp(std::span<const float> row) {
    float max = -INFINITY;
    for (float l : row) max = l > max ? l : max;
    double sum = 0;
    for (float l : row) sum += std::exp(double(l) - max);
    return max + float(std::log(sum));
}

// Throws InvalidArgument naming the first request that asks for a missing row, an n_top outside
// 1 .. min(n_vocab, kMaxTopCandidates), an extra id outside the vocabulary or a mask of the wrong size.
inline void check_candidate_requests(std::span<const CandidateRequest> requests, uint32_t n_rows, uint32_t n_vocab) {
    auto bad = [](size_t i, const std::string& what) {
        throw Error(ErrorKind::InvalidArgument, "top_candidates: request " + std::to_string(i) + " " + what);
    };
    for (size_t i = 0; i < requests.size(); ++i) {
        const CandidateRequest& r = requests[i];
        if (r.row >= n_rows) bad(i, "asks for logits row " + std::to_string(r.row) + " of " + std::to_string(n_rows));
        const uint32_t most = n_vocab < kMaxTopCandidates ? n_vocab : kMaxTopCandidates;
        if (r.n_top == 0 || r.n_top > most) {
            bad(i, "asks for " + std::to_string(r.n_top) + " top candidates (1 to " + std::to_string(most) + " allowed)");
        }
        for (int32_t id : r.extra) {
            if (id < 0 || uint32_t(id) >= n_vocab) bad(i, "asks for token id " + std::to_string(id) + " outside the vocabulary");
        }
        const size_t words = (size_t(n_vocab) + 63) / 64;
        if (!r.allowed.empty() && r.allowed.size() != words) {
            bad(i, "has an allowed-token mask of " + std::to_string(r.allowed.size()) + " 64-bit words where " +
                       std::to_string(n_vocab) + " tokens need " + std::to_string(words));
        }
    }
}

class ComputeBackend {
public:
    virtual ~ComputeBackend() = default;

    virtual std::string name() const = 0;  // "cpu", "cuda"
    // Runs the batch; throws llcuda::Error (InvalidArgument for a malformed batch, OutOfMemory,
    // Internal for a device fault), after which the KV contents of the batch's sequences are undefined.
    virtual void forward(const Batch& batch) = 0;
    // Whether forward() only queues the pass and returns while the device computes it (the reads
    // of its results wait). A caller may then do host work in the pass's shadow.
    virtual bool forward_returns_early() const { return false; }
    // The logits of the last forward pass: n_logit_rows() x n_vocab floats, row-major, on the host.
    virtual void copy_logits(std::vector<float>& out) = 0;
    // The most likely token of each logits row (ties: the lowest id), computed where the logits live.
    virtual std::vector<int32_t> argmax() = 0;
    // For each request, the candidates described above, computed where the logits live (on the
    // GPU only the candidates cross to the host). `out` gets one entry per request, in order.
    // Throws InvalidArgument for a request check_candidate_requests rejects.
    virtual void top_candidates(std::span<const CandidateRequest> requests, std::vector<RowCandidates>& out) = 0;
    // Bytes of KV storage for one position across all layers (for planners and error messages).
    virtual uint64_t kv_bytes_per_position() const = 0;
};

}  // namespace llcuda
