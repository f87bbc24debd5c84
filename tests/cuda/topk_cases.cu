// topk_rows: each row's top candidates, the logits of requested ids and the log-sum-exp, against a
// host full sort (logit descending, equal logits by lower id) and a double-precision log-sum-exp.
// The error is the number of wrong (id, logit bits) entries plus the log-sum-exp's relative error,
// so any wrong or misordered candidate fails the 1e-5 tolerance.
//
// Row kinds: "normal" (continuous, the maximum planted twice), "ties" (a quarter-step grid with
// signed zeros: thousands of equal values), "narrow" (every value within 1e-3 of 10, so the first
// 12 key bits cannot separate them and the refining passes run), "flat" (one value everywhere: the
// threshold value itself has more copies than fit, so the lowest ids are taken in id order).
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

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::Normal: return "normal";
        case Kind::Ties: return "ties";
        case Kind::Narrow: return "narrow";
        case Kind::Flat: return "flat";
    }
    return "?";
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

CaseResult run_topk(Kind kind, uint32_t n_vocab, uint32_t k, uint32_t n_rows, uint32_t n_extra, bool timed) {
    std::mt19937_64& rng = test_rng();
    std::vector<float> logits;
    for (uint32_t r = 0; r < n_rows; ++r) {
        const auto row = make_row(kind, n_vocab, rng);
        logits.insert(logits.end(), row.begin(), row.end());
    }
    // Request i reads row n_rows - 1 - i (the indirection is part of the contract).
    const uint32_t n_top = std::min(k + n_extra, n_vocab);
    std::vector<TopkRow> reqs(n_rows);
    std::vector<int32_t> extra_ids;
    for (uint32_t i = 0; i < n_rows; ++i) {
        reqs[i] = {n_rows - 1 - i, n_top, i * n_top, uint32_t(extra_ids.size()), n_extra};
        for (uint32_t j = 0; j < n_extra; ++j) extra_ids.push_back(int32_t(rng() % n_vocab));
    }
    if (extra_ids.empty()) extra_ids.push_back(0);  // a valid pointer; no request reads it

    DeviceArray<float> d_logits(logits), d_extra_logits(extra_ids.size()), d_lse(n_rows);
    DeviceArray<TopkRow> d_reqs(reqs);
    DeviceArray<int32_t> d_extra_ids(extra_ids);
    DeviceArray<TopkEntry> d_top(uint64_t(n_rows) * n_top);
    DeviceArray<uint8_t> d_ws(topk_workspace_bytes(n_rows, n_vocab));
    d_extra_logits.poison();
    d_lse.poison();
    d_top.poison();
    auto launch = [&] {
        topk_rows(d_logits.get(), n_vocab, d_reqs.get(), n_rows, n_top, d_extra_ids.get(), d_top.get(),
                  d_extra_logits.get(), d_lse.get(), d_ws.get(), nullptr);
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
        const float* row = &logits[uint64_t(reqs[i].row) * n_vocab];
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return row[a] > row[b]; });
        for (uint32_t j = 0; j < n_top; ++j) {
            const TopkEntry e = top[uint64_t(i) * n_top + j];
            if (e.id != order[j] || std::bit_cast<uint32_t>(e.logit) != std::bit_cast<uint32_t>(row[order[j]])) res.error += 1;
        }
        for (uint32_t j = 0; j < n_extra; ++j) {
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
    res.bytes = uint64_t(n_rows) * n_vocab * sizeof(float);
    if (timed) res.median_us = time_median_us(launch);
    return res;
}

std::vector<OpCase> topk_cases() {
    std::vector<OpCase> cases;
    auto add = [&](Kind kind, uint32_t n_vocab, uint32_t k, uint32_t n_rows, uint32_t n_extra) {
        const std::string name = std::string(kind_name(kind)) + " " + std::to_string(n_vocab) + " k=" + std::to_string(k) +
                                 "+" + std::to_string(n_extra) + " rows=" + std::to_string(n_rows);
        cases.push_back({"topk", name, 1e-5, [=](bool timed) { return run_topk(kind, n_vocab, k, n_rows, n_extra, timed); }});
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
    return cases;
}

}  // namespace
LLCUDA_OP_CASES(topk_cases);
}  // namespace llcuda::cuda::test
