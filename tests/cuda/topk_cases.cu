// topk_rows: each row's top candidates, the logits of requested ids and the log-sum-exp, against a
// host full sort (logit descending, equal logits by lower id) and a double-precision log-sum-exp.
// The error is the number of wrong (id, logit bits) entries plus the log-sum-exp's relative error,
// so any wrong or misordered candidate fails the 1e-5 tolerance.
//
// Row kinds: "normal" (continuous, the maximum planted twice), "ties" (a quarter-step grid with
// signed zeros: thousands of equal values), "narrow" (every value within 1e-3 of 10, so the first
// 12 key bits cannot separate them and the refining passes run), "flat" (one value everywhere: the
// threshold value itself has more copies than fit, so the lowest ids are taken in id order).
//
// Masked cases give each row an allowed-token mask (a grammar's; the last row of a multi-row case
// goes without one, as rows of unconstrained requests in the same step do): the reference sorts the
// allowed tokens only, entries past their count must be (-1, -inf), and the extras and the
// log-sum-exp stay the whole row's (most extras of a sparse mask are masked out). Mask kinds: "1",
// "3", "50" allowed tokens (fewer than n_top when n_top is larger), "half" (dense, random), "top"
// (every token but the 2 n_top highest: the row's best are masked out), "1-at-inf" (the one allowed
// token's logit is -inf: it still comes back, so masked tokens are not merely -inf).
#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "backend/cuda/kernels.h"
#include "harness.h"

namespace llcuda::cuda::test {
namespace {

enum class Kind { Normal, Ties, Narrow, Flat };
enum class Mask { None, One, Three, Fifty, Half, Top, OneAtInf };

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::Normal: return "normal";
        case Kind::Ties: return "ties";
        case Kind::Narrow: return "narrow";
        case Kind::Flat: return "flat";
    }
    return "?";
}

const char* mask_name(Mask m) {
    switch (m) {
        case Mask::None: return "";
        case Mask::One: return " mask=1";
        case Mask::Three: return " mask=3";
        case Mask::Fifty: return " mask=50";
        case Mask::Half: return " mask=half";
        case Mask::Top: return " mask=top";
        case Mask::OneAtInf: return " mask=1-at-inf";
    }
    return "?";
}

// The (n_vocab + 31) / 32 words of a row's mask (bit t of word t / 32 = token t allowed); may set
// row[...] to -inf (OneAtInf).
std::vector<uint32_t> make_mask(Mask m, std::vector<float>& row, uint32_t n_top, std::mt19937_64& rng) {
    const uint32_t n = uint32_t(row.size());
    std::vector<uint32_t> words((n + 31) / 32, 0);
    auto allow = [&](uint32_t id) { words[id / 32] |= 1u << (id % 32); };
    auto allow_random = [&](uint32_t count) {
        std::vector<uint32_t> ids(n);
        std::iota(ids.begin(), ids.end(), 0u);
        std::shuffle(ids.begin(), ids.end(), rng);
        for (uint32_t i = 0; i < std::min(count, n); ++i) allow(ids[i]);
    };
    switch (m) {
        case Mask::None: break;
        case Mask::One: allow_random(1); break;
        case Mask::Three: allow_random(3); break;
        case Mask::Fifty: allow_random(50); break;
        case Mask::Half:
            for (uint32_t id = 0; id < n; ++id) {
                if (rng() % 2) allow(id);
            }
            break;
        case Mask::Top: {
            std::vector<uint32_t> ids(n);
            std::iota(ids.begin(), ids.end(), 0u);
            std::stable_sort(ids.begin(), ids.end(), [&](uint32_t a, uint32_t b) { return row[a] > row[b]; });
            for (uint32_t i = std::min(2 * n_top, n - 1); i < n; ++i) allow(ids[i]);
            break;
        }
        case Mask::OneAtInf: {
            const uint32_t id = uint32_t(rng() % n);
            row[id] = -INFINITY;
            allow(id);
            break;
        }
    }
    if (n % 32) words.back() |= ~0u << (n % 32);  // bits past the row must be ignored
    return words;
}

bool allowed(const std::vector<uint32_t>& mask, uint32_t words, uint32_t row_index, int32_t id) {
    return (mask[uint64_t(row_index) * words + uint32_t(id) / 32] >> (uint32_t(id) % 32)) & 1u;
}

std::vector<float> make_row(Kind kind, uint32_t n, std::mt19937_64& rng) {
    std::vector<float> row(n);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    std::uniform_real_distribution<float> narrow(10.0f, 10.001f);
    const float flat = normal(rng);
    for (auto& x : row) {
        switch (kind) {
            case Kind::Normal: x = normal(rng); break;
            case Kind::Ties:
                x = std::round(normal(rng) * 4.0f) / 4.0f;
                if (x == 0.0f && rng() % 2) x = -0.0f;
                break;
            case Kind::Narrow: x = narrow(rng); break;
            case Kind::Flat: x = flat; break;
        }
    }
    if (kind == Kind::Normal) {  // a tie at the very top
        const float top = *std::max_element(row.begin(), row.end()) + 1.0f;
        row[rng() % n] = top;
        row[rng() % n] = top;
    }
    return row;
}

CaseResult run_topk(Kind kind, uint32_t n_vocab, uint32_t k, uint32_t n_rows, uint32_t n_extra, Mask mask_kind, bool timed) {
    std::mt19937_64& rng = test_rng();
    const uint32_t n_top = std::min(k + n_extra, n_vocab);
    // Row r's mask at masks[r * words]; the last of several rows has none.
    const uint32_t words = (n_vocab + 31) / 32;
    const bool masked = mask_kind != Mask::None;
    auto row_masked = [&](uint32_t r) { return masked && (n_rows == 1 || r + 1 < n_rows); };
    std::vector<float> logits;
    std::vector<uint32_t> masks;
    for (uint32_t r = 0; r < n_rows; ++r) {
        auto row = make_row(kind, n_vocab, rng);
        const auto m = make_mask(row_masked(r) ? mask_kind : Mask::None, row, n_top, rng);
        logits.insert(logits.end(), row.begin(), row.end());
        masks.insert(masks.end(), m.begin(), m.end());
    }
    // Request i reads row n_rows - 1 - i (the indirection is part of the contract), and that row's mask.
    std::vector<TopkRow> reqs(n_rows);
    std::vector<int32_t> extra_ids;
    for (uint32_t i = 0; i < n_rows; ++i) {
        const uint32_t r = n_rows - 1 - i;
        reqs[i] = {r, n_top, i * n_top, uint32_t(extra_ids.size()), n_extra, row_masked(r) ? r * words : kTopkNoMask};
        for (uint32_t j = 0; j < n_extra; ++j) extra_ids.push_back(int32_t(rng() % n_vocab));
    }
    if (extra_ids.empty()) extra_ids.push_back(0);  // a valid pointer; no request reads it

    DeviceArray<float> d_logits(logits), d_extra_logits(extra_ids.size()), d_lse(n_rows);
    DeviceArray<TopkRow> d_reqs(reqs);
    DeviceArray<int32_t> d_extra_ids(extra_ids);
    DeviceArray<uint32_t> d_masks(masks);
    DeviceArray<TopkEntry> d_top(uint64_t(n_rows) * n_top);
    DeviceArray<uint8_t> d_ws(topk_workspace_bytes(n_rows, n_vocab));
    d_extra_logits.poison();
    d_lse.poison();
    d_top.poison();
    auto launch = [&] {
        topk_rows(d_logits.get(), n_vocab, d_reqs.get(), n_rows, n_top, d_extra_ids.get(), masked ? d_masks.get() : nullptr,
                  d_top.get(), d_extra_logits.get(), d_lse.get(), d_ws.get(), nullptr);
    };
    launch();
    sync_check("topk_rows");
    const auto top = d_top.download();
    const auto extra_logits = d_extra_logits.download();
    const auto lse = d_lse.download();

    CaseResult res;
    res.error = 0;
    std::vector<int32_t> order(n_vocab);
    for (uint32_t i = 0; i < n_rows; ++i) {
        const uint32_t r = reqs[i].row;
        const float* row = &logits[uint64_t(r) * n_vocab];
        order.resize(n_vocab);  // a masked row before this one erased entries
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return row[a] > row[b]; });
        if (row_masked(r)) std::erase_if(order, [&](int32_t id) { return !allowed(masks, words, r, id); });
        for (uint32_t j = 0; j < n_top; ++j) {
            const TopkEntry e = top[uint64_t(i) * n_top + j];
            if (j < order.size()) {
                if (e.id != order[j] || std::bit_cast<uint32_t>(e.logit) != std::bit_cast<uint32_t>(row[order[j]])) res.error += 1;
            } else if (e.id != -1 || e.logit != -INFINITY) {  // fewer allowed tokens than n_top: padding
                res.error += 1;
            }
        }
        for (uint32_t j = 0; j < n_extra; ++j) {  // the raw logit, allowed or not
            const uint32_t at = reqs[i].extra_offset + j;
            if (std::bit_cast<uint32_t>(extra_logits[at]) != std::bit_cast<uint32_t>(row[extra_ids[at]])) res.error += 1;
        }
        const double max = *std::max_element(row, row + n_vocab);
        double sum = 0;
        for (uint32_t v = 0; v < n_vocab; ++v) sum += std::exp(double(row[v]) - max);
        const double ref = max + std::log(sum);
        const double err = std::abs(double(lse[i]) - ref) / std::max(1.0, std::abs(ref));
        res.error += std::isfinite(lse[i]) ? err : INFINITY;
    }
    res.bytes = uint64_t(n_rows) * n_vocab * sizeof(float) + (masked ? masks.size() * sizeof(uint32_t) : 0);
    if (timed) res.median_us = time_median_us(launch);
    return res;
}

std::vector<OpCase> topk_cases() {
    std::vector<OpCase> cases;
    auto add = [&](Kind kind, uint32_t n_vocab, uint32_t k, uint32_t n_rows, uint32_t n_extra, Mask mask = Mask::None) {
        const std::string name = std::string(kind_name(kind)) + " " + std::to_string(n_vocab) + " k=" + std::to_string(k) +
                                 "+" + std::to_string(n_extra) + " rows=" + std::to_string(n_rows) + mask_name(mask);
        cases.push_back({"topk", name, 1e-5,
                         [=](bool timed) { return run_topk(kind, n_vocab, k, n_rows, n_extra, mask, timed); }});
    };
    for (Kind kind : {Kind::Normal, Kind::Ties}) {
        for (uint32_t n_vocab : {49152u, 128256u, 262144u}) {
            for (uint32_t k : {1u, 40u, 100u, 1000u}) {
                for (uint32_t n_rows : {1u, 8u}) add(kind, n_vocab, k, n_rows, k == 1 ? 0 : 64);
            }
        }
    }
    add(Kind::Narrow, 128256, 40, 2, 64);
    add(Kind::Narrow, 262144, 1000, 1, 64);
    add(Kind::Flat, 128256, 40, 2, 64);
    add(Kind::Flat, 49152, 2048, 1, 0);     // the most candidates, all tied
    add(Kind::Normal, 50001, 100, 3, 64);   // odd vocabulary: scalar loads
    add(Kind::Ties, 5, 3, 2, 2);            // n_top = the whole row

    // Grammar masks. Batch 1 at the benchmark's vocabularies (greedy: k = 1; sampled: k = 40) is
    // what constrained decoding runs; compare with the unmasked cases of the same shape above.
    for (uint32_t n_vocab : {49152u, 128256u, 151936u, 262144u}) {
        for (Mask m : {Mask::One, Mask::Three, Mask::Fifty, Mask::Half, Mask::Top}) {
            add(Kind::Normal, n_vocab, 1, 1, 0, m);
            add(Kind::Normal, n_vocab, 40, 1, 8, m);
        }
    }
    add(Kind::Normal, 128256, 40, 1, 64, Mask::OneAtInf);
    add(Kind::Ties, 128256, 40, 8, 64, Mask::Half);     // ties among the allowed; the last row unmasked
    add(Kind::Ties, 151936, 1000, 8, 64, Mask::Fifty);  // fewer allowed than n_top on 7 rows of 8
    add(Kind::Ties, 151936, 1, 8, 0, Mask::Three);
    add(Kind::Normal, 262144, 1000, 2, 64, Mask::Top);
    add(Kind::Narrow, 128256, 40, 2, 64, Mask::Half);   // refining passes over the allowed keys
    add(Kind::Narrow, 262144, 1000, 1, 64, Mask::Top);
    add(Kind::Flat, 128256, 40, 2, 64, Mask::Half);     // the lowest allowed ids of the tied threshold
    add(Kind::Flat, 49152, 2048, 1, 0, Mask::Half);
    add(Kind::Normal, 50001, 100, 3, 64, Mask::Half);   // odd vocabulary: scalar loads, a partial last word
    add(Kind::Normal, 50001, 100, 3, 64, Mask::Fifty);
    add(Kind::Ties, 5, 3, 2, 2, Mask::One);             // tiny rows
    // k = 1 takes its own kernels (no radix select): all tied (the lowest id), -inf as the only
    // allowed logit, scalar loads, tiny rows, the rows' best masked out (8 rows, the last unmasked).
    add(Kind::Flat, 49152, 1, 2, 0);
    add(Kind::Flat, 128256, 1, 3, 0, Mask::Half);
    add(Kind::Normal, 128256, 1, 2, 0, Mask::OneAtInf);
    add(Kind::Normal, 50001, 1, 3, 0, Mask::Half);
    add(Kind::Ties, 5, 1, 2, 0, Mask::One);
    add(Kind::Narrow, 262144, 1, 8, 0, Mask::Top);
    return cases;
}

}  // namespace
LLCUDA_OP_CASES(topk_cases);
}  // namespace llcuda::cuda::test
