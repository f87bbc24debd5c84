// Candidate pre-selection for sampling on the host (ComputeBackend::top_candidates): for each
// requested logits row, the n_top highest logits (ties: the lower id first), the logits of a few
// requested ids, and the row's log-sum-exp, so that ~n_top pairs cross to the host instead of a
// 128k-262k float row.
//
// k = 1 (greedy) skips the select: per chunk the best allowed key, merged per row (top1_* below).
// Otherwise an exact radix select on 32-bit keys that order like the floats (order_key):
//   1. topk_histogram_kernel, several blocks per row (one row alone must not run on one SM): a
//      4096-bin histogram of the top 12 key bits (sign, exponent, 3 mantissa bits) added into the
//      workspace, and each block's (max, sum of exp) partial for the log-sum-exp.
//   2. topk_select_kernel, one block per row: merges the partials, gathers the requested ids, and
//      finds the bin holding the n_top-th largest key. While that bin and the bins above it hold
//      more than kSlots keys, it refines the bin with the next 10 key bits (one pass over the row,
//      counting only keys inside the bin; rare: it needs thousands of near-equal top logits). Then
//      one pass copies every key above the bin and the bin's own keys, with their ids, into shared
//      memory, a bitonic sort orders them (key descending, id ascending) and the first n_top are
//      written. When all 32 bits are resolved and the threshold value itself still has more copies
//      than fit (massive exact ties), its copies with the lowest ids are taken, in id order, by a
//      scan-based compaction.
//
// A row may come with an allowed-token mask (a grammar's; TopkRow::mask_offset): its disallowed
// tokens are left out of every count and copy above (not turned into -inf, so that an allowed
// token whose logit is -inf still ranks before them), except the log-sum-exp and the extras, which
// stay the whole row's. When fewer tokens are allowed than asked for, the select kernel takes all
// of them (the histogram's total) and pads the rest of the row's entries with (-1, -inf). Launches
// without masks use the kernels' kMasked = false instances, which read no mask.
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>
#include <type_traits>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels.h"
#include "backend/cuda/ops_common.cuh"

namespace llcuda::cuda {

namespace {

constexpr int kHistThreads = 256;
constexpr uint32_t kChunk = 8192;      // logits per histogram block; a multiple of 4 (float4 loads)
constexpr uint32_t kBins0 = 4096;      // first digit: key bits 31..20
constexpr uint32_t kBins = 1024;       // refining digits: key bits 19..10, then 9..0
constexpr int kThreads = 1024;         // select kernel
constexpr uint32_t kSlots = 4096;      // (key, id) pairs the select kernel sorts in shared memory
static_assert(kTopkMaxCandidates <= kSlots, "the taken keys must fit the sort");
static_assert(kBins0 * sizeof(uint32_t) <= kSlots * sizeof(uint2), "the histogram lives in the slots");
static_assert(kBins0 % kThreads == 0 && kBins % kThreads == 0, "find_bin gives each thread whole bins");

// Unsigned keys ordered like the floats: positive floats get the sign bit set, negative ones are
// inverted. -0 is folded onto +0 first, because they compare equal as floats and the host's rule
// then orders them by id.
__device__ __forceinline__ uint32_t order_key(float x) {
    uint32_t u = __float_as_uint(x);
    if (u == 0x80000000u) u = 0;
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// The row's allowed-token mask (bit t of word t / 32), or null when every token is allowed.
template <bool kMasked>
__device__ __forceinline__ const uint32_t* row_mask(const uint32_t* masks, const TopkRow& req) {
    return kMasked && req.mask_offset != kTopkNoMask ? masks + req.mask_offset : nullptr;
}

// Applies f(logit, id, allowed) to row[begin, end) spread over the block (kVec: float4 loads; begin,
// end multiples of 4 and the row 16-byte aligned). `allowed` is the token's bit of `allow` (true
// when allow is null, and always when !kMasked: then `allow` is never read).
template <bool kVec, bool kMasked, class F>
__device__ __forceinline__ void for_each_logit(const float* __restrict__ row, const uint32_t* __restrict__ allow,
                                               uint32_t begin, uint32_t end, F&& f) {
    if (kVec) {
        const float4* r4 = reinterpret_cast<const float4*>(row);
#pragma unroll 4
        for (uint32_t i = begin / 4 + threadIdx.x; i < end / 4; i += blockDim.x) {
            const float4 v = __ldg(r4 + i);
            uint32_t bits = 0xFu;  // ids 4i .. 4i + 3: bits 4 (i % 8) .. +3 of mask word i / 8
            if (kMasked && allow) bits = __ldg(allow + i / 8) >> (4 * (i % 8));
            f(v.x, 4 * i, (bits & 1u) != 0);
            f(v.y, 4 * i + 1, (bits & 2u) != 0);
            f(v.z, 4 * i + 2, (bits & 4u) != 0);
            f(v.w, 4 * i + 3, (bits & 8u) != 0);
        }
    } else {
        for (uint32_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
            const bool ok = !kMasked || !allow || ((__ldg(allow + i / 32) >> (i % 32)) & 1u);
            f(__ldg(row + i), i, ok);
        }
    }
}

// ---- log-sum-exp as (max m, sum of exp(x - m)) pairs ----

__device__ __forceinline__ void lse_add(float& m, float& s, float x) {
    if (x > m) {
        s = s * expf(m - x) + 1.0f;
        m = x;
    } else if (x != -INFINITY) {
        s += expf(x - m);
    }
}

__device__ __forceinline__ float2 lse_merge(float2 a, float2 b) {
    const float m = fmaxf(a.x, b.x);
    if (m == -INFINITY) return make_float2(m, 0.0f);
    return make_float2(m, a.y * expf(a.x - m) + b.y * expf(b.x - m));
}

// Merged over the block; every thread gets the result. `red` is 32 entries of shared memory.
__device__ float2 block_lse(float2 v, float2* red) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        v = lse_merge(v, make_float2(__shfl_xor_sync(ops::kFullMask, v.x, o), __shfl_xor_sync(ops::kFullMask, v.y, o)));
    }
    const unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) red[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < blockDim.x / 32 ? red[lane] : make_float2(-INFINITY, 0.0f);
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            v = lse_merge(v, make_float2(__shfl_xor_sync(ops::kFullMask, v.x, o), __shfl_xor_sync(ops::kFullMask, v.y, o)));
        }
        if (lane == 0) red[0] = v;
    }
    __syncthreads();
    v = red[0];
    __syncthreads();
    return v;
}

// Inclusive prefix sum over the threads of the block (in thread order); `total` gets the block's
// sum. `scan` is 32 entries of shared memory, free again on return.
__device__ uint32_t block_inclusive_scan(uint32_t v, uint32_t* scan, uint32_t& total) {
    const unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32, n_warps = blockDim.x / 32;
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
        const uint32_t n = __shfl_up_sync(ops::kFullMask, v, o);
        if (lane >= unsigned(o)) v += n;
    }
    if (lane == 31) scan[warp] = v;
    __syncthreads();
    if (warp == 0) {
        uint32_t w = lane < n_warps ? scan[lane] : 0;
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            const uint32_t n = __shfl_up_sync(ops::kFullMask, w, o);
            if (lane >= unsigned(o)) w += n;
        }
        scan[lane] = w;
    }
    __syncthreads();
    if (warp > 0) v += scan[warp - 1];
    total = scan[n_warps - 1];
    __syncthreads();
    return v;
}

// The bin b of histogram h (n_bins, higher bin = larger keys) holding the need-th largest key:
// found = {b, keys in bins above b, keys in b}. Needs at least `need` keys in h.
__device__ void find_bin(const uint32_t* h, uint32_t n_bins, uint32_t need, uint32_t* found, uint32_t* scan) {
    const uint32_t per = n_bins / blockDim.x;
    const uint32_t lo = threadIdx.x * per;
    uint32_t local = 0;
    for (uint32_t j = 0; j < per; ++j) local += h[lo + j];
    uint32_t total;
    const uint32_t inclusive = block_inclusive_scan(local, scan, total);
    uint32_t cum = total - inclusive;  // keys in the bins of the threads above this one
    for (int j = int(per) - 1; j >= 0; --j) {
        const uint32_t c = h[lo + uint32_t(j)];
        if (cum < need && cum + c >= need) {  // true for exactly one bin of the block
            found[0] = lo + uint32_t(j);
            found[1] = cum;
            found[2] = c;
        }
        cum += c;
    }
    __syncthreads();
}

// (key, id) pairs: larger key first, then lower id.
__device__ __forceinline__ bool before(uint2 a, uint2 b) { return a.x > b.x || (a.x == b.x && a.y < b.y); }

// Sorts s[0, n) by `before`; n a power of two.
__device__ void bitonic_sort(uint2* s, uint32_t n) {
    for (uint32_t k = 2; k <= n; k <<= 1) {
        for (uint32_t j = k >> 1; j > 0; j >>= 1) {
            for (uint32_t i = threadIdx.x; i < n; i += blockDim.x) {
                const uint32_t p = i ^ j;
                if (p > i) {
                    const uint2 a = s[i], b = s[p];
                    if ((i & k) == 0 ? before(b, a) : before(a, b)) {
                        s[i] = b;
                        s[p] = a;
                    }
                }
            }
            __syncthreads();
        }
    }
}

// out[0, need) = (key, id) of the first `need` allowed logits of the row whose key equals `key`, in
// id order: tiles of the row in order, each thread a run of consecutive ids, ranks by a block scan.
template <bool kVec, bool kMasked>
__device__ void take_first_equal(const float* __restrict__ row, const uint32_t* __restrict__ allow, uint32_t n_vocab,
                                 uint32_t key, uint32_t need, uint2* out, uint32_t* scan) {
    constexpr uint32_t kRun = kVec ? 4 : 1;
    uint32_t taken = 0;  // the same in every thread
    for (uint32_t base = 0; base < n_vocab && taken < need; base += blockDim.x * kRun) {
        const uint32_t first = base + threadIdx.x * kRun;
        float x[4] = {0, 0, 0, 0};
        uint32_t bits = 0xFu;  // allowed bits of ids first .. first + kRun - 1 (a run never crosses a mask word)
        if (first < n_vocab) {
            if (kVec) {
                const float4 v = __ldg(reinterpret_cast<const float4*>(row + first));
                x[0] = v.x, x[1] = v.y, x[2] = v.z, x[3] = v.w;
            } else {
                x[0] = __ldg(row + first);
            }
            if (kMasked && allow) bits = __ldg(allow + first / 32) >> (first % 32);
        }
        uint32_t flags = 0, count = 0;
#pragma unroll
        for (uint32_t v = 0; v < kRun; ++v) {
            if (first + v < n_vocab && ((bits >> v) & 1u) && order_key(x[v]) == key) {
                flags |= 1u << v;
                ++count;
            }
        }
        uint32_t tile_total;
        uint32_t rank = taken + block_inclusive_scan(count, scan, tile_total) - count;
#pragma unroll
        for (uint32_t v = 0; v < kRun; ++v) {
            if (flags >> v & 1u) {
                if (rank < need) out[rank] = make_uint2(key, first + v);
                ++rank;
            }
        }
        taken += tile_total;
    }
}

// grid (n_splits, n_requests): histogram of the top 12 key bits of the allowed logits and the
// log-sum-exp partial of all logits in [blockIdx.x * kChunk, +kChunk) of the request's row.
template <bool kVec, bool kMasked>
__global__ void __launch_bounds__(kHistThreads)
    topk_histogram_kernel(const float* __restrict__ logits, uint32_t n_vocab, const TopkRow* __restrict__ requests,
                          const uint32_t* __restrict__ masks, uint32_t n_splits, uint32_t* __restrict__ hist,
                          float2* __restrict__ partials) {
    __shared__ uint32_t h[kBins0];
    __shared__ float2 red[32];
    for (uint32_t i = threadIdx.x; i < kBins0; i += blockDim.x) h[i] = 0;
    __syncthreads();
    const TopkRow& req = requests[blockIdx.y];
    const float* row = logits + uint64_t(req.row) * n_vocab;
    const uint32_t* allow = row_mask<kMasked>(masks, req);
    const uint32_t begin = blockIdx.x * kChunk, end = min(begin + kChunk, n_vocab);
    float m = -INFINITY, s = 0.0f;
    for_each_logit<kVec, kMasked>(row, allow, begin, end, [&](float x, uint32_t, bool ok) {
        if (ok) atomicAdd(&h[order_key(x) >> 20], 1u);
        lse_add(m, s, x);
    });
    __syncthreads();
    uint32_t* out = hist + uint64_t(blockIdx.y) * kBins0;
    for (uint32_t i = threadIdx.x; i < kBins0; i += blockDim.x) {
        if (h[i]) atomicAdd(&out[i], h[i]);
    }
    const float2 ms = block_lse(make_float2(m, s), red);
    if (threadIdx.x == 0) partials[uint64_t(blockIdx.y) * n_splits + blockIdx.x] = ms;
}

// One block per request; see the top of the file.
template <bool kVec, bool kMasked>
__global__ void __launch_bounds__(kThreads)
    topk_select_kernel(const float* __restrict__ logits, uint32_t n_vocab, const TopkRow* __restrict__ requests,
                       const uint32_t* __restrict__ masks, uint32_t n_splits, const uint32_t* __restrict__ hist,
                       const float2* __restrict__ partials, const int32_t* __restrict__ extra_ids,
                       TopkEntry* __restrict__ top, float* __restrict__ extra_logits, float* __restrict__ log_sum_exp) {
    __shared__ uint2 slots[kSlots];  // (key, id) of the taken logits; first the histogram
    __shared__ uint32_t scan[32];
    __shared__ float2 red[32];
    __shared__ uint32_t found[3];    // find_bin's answer
    __shared__ uint32_t n_slots;
    uint32_t* h = reinterpret_cast<uint32_t*>(slots);

    const TopkRow req = requests[blockIdx.x];
    const float* row = logits + uint64_t(req.row) * n_vocab;
    const uint32_t* allow = row_mask<kMasked>(masks, req);
    const uint32_t n_out = min(max(req.n_top, 1u), min(n_vocab, kTopkMaxCandidates));  // entries to write
    uint32_t n_top = n_out;  // entries to select: fewer when fewer tokens are allowed

    float2 ms = make_float2(-INFINITY, 0.0f);
    for (uint32_t i = threadIdx.x; i < n_splits; i += blockDim.x) ms = lse_merge(ms, partials[uint64_t(blockIdx.x) * n_splits + i]);
    ms = block_lse(ms, red);
    if (threadIdx.x == 0) log_sum_exp[blockIdx.x] = ms.x + logf(ms.y);
    for (uint32_t i = threadIdx.x; i < req.n_extra; i += blockDim.x) {
        const int32_t id = extra_ids[req.extra_offset + i];
        extra_logits[req.extra_offset + i] = id >= 0 && uint32_t(id) < n_vocab ? row[id] : NAN;
    }

    // The threshold: after each digit, `prefix` holds the resolved high bits (under `mask`) of the
    // n_top-th largest key, `above` counts the keys above them and `need` the keys still to take
    // from inside them.
    for (uint32_t i = threadIdx.x; i < kBins0; i += blockDim.x) h[i] = hist[uint64_t(blockIdx.x) * kBins0 + i];
    __syncthreads();
    if (kMasked && allow) {
        // The histogram counts the allowed tokens only: its total is how many there are.
        uint32_t local = 0;
        for (uint32_t i = threadIdx.x; i < kBins0; i += blockDim.x) local += h[i];
        uint32_t n_allowed;
        (void)block_inclusive_scan(local, scan, n_allowed);
        n_top = min(n_top, n_allowed);
        for (uint32_t j = n_top + threadIdx.x; j < n_out; j += blockDim.x) top[req.top_offset + j] = TopkEntry{-1, -INFINITY};
        if (n_top == 0) return;  // the same in every thread of the block
    }
    find_bin(h, kBins0, n_top, found, scan);
    uint32_t above = found[1], need = n_top - found[1], in_bin = found[2];
    uint32_t prefix = found[0] << 20, mask = 0xFFF00000u;
    for (int shift = 10; shift >= 0 && above + in_bin > kSlots; shift -= 10) {
        __syncthreads();  // found[] read by all
        for (uint32_t i = threadIdx.x; i < kBins; i += blockDim.x) h[i] = 0;
        __syncthreads();
        for_each_logit<kVec, kMasked>(row, allow, 0, n_vocab, [&](float x, uint32_t, bool ok) {
            const uint32_t key = order_key(x);
            if (ok && (key & mask) == prefix) atomicAdd(&h[(key >> shift) & (kBins - 1)], 1u);
        });
        __syncthreads();
        find_bin(h, kBins, need, found, scan);
        above += found[1];
        need -= found[1];
        in_bin = found[2];
        prefix |= found[0] << shift;
        mask |= (kBins - 1) << shift;
    }

    // Take every key above the threshold bits, and the keys inside them when they fit.
    const bool fits = above + in_bin <= kSlots;
    __syncthreads();  // every thread has read found[] (racecheck: n_slots may share its bank word)
    if (threadIdx.x == 0) n_slots = 0;
    __syncthreads();  // the histogram is dead from here: the slots take its place
    for_each_logit<kVec, kMasked>(row, allow, 0, n_vocab, [&](float x, uint32_t id, bool ok) {
        const uint32_t key = order_key(x), high = key & mask;
        if (ok && (high > prefix || (fits && high == prefix))) {
            const uint32_t at = atomicAdd(&n_slots, 1u);
            if (at < kSlots) slots[at] = make_uint2(key, id);
        }
    });
    __syncthreads();
    uint32_t total = above + in_bin;
    if (!fits) {  // all 32 bits resolved: `prefix` is the threshold key itself
        take_first_equal<kVec, kMasked>(row, allow, n_vocab, prefix, need, slots + above, scan);
        total = above + need;
    }
    uint32_t n_sort = 1;
    while (n_sort < total) n_sort <<= 1;
    for (uint32_t i = total + threadIdx.x; i < n_sort; i += blockDim.x) slots[i] = make_uint2(0u, 0xFFFFFFFFu);  // sorts last
    __syncthreads();
    bitonic_sort(slots, n_sort);
    for (uint32_t j = threadIdx.x; j < n_top; j += blockDim.x) {
        const uint2 e = slots[j];
        top[req.top_offset + j] = TopkEntry{int32_t(e.y), row[e.y]};  // the logit's own bits (-0 stays -0)
    }
}

// ---- k = 1 (greedy rows, constrained ones among them): the best allowed logit, no radix select ----
// Per chunk the best allowed (key, id) and the log-sum-exp partial, then one small block per request
// merges them: the same answer as the select (largest key, ties to the lower id; (-1, -inf) when
// nothing is allowed) for a fraction of its passes over the row.

constexpr uint32_t kNoId = 0xFFFFFFFFu;  // no token has this id, so (0, kNoId) loses to every real entry
__device__ __forceinline__ uint2 no_best() { return make_uint2(0u, kNoId); }

__device__ __forceinline__ uint2 better(uint2 a, uint2 b) { return before(b, a) ? b : a; }

__device__ __forceinline__ uint2 warp_best(uint2 v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        v = better(v, make_uint2(__shfl_xor_sync(ops::kFullMask, v.x, o), __shfl_xor_sync(ops::kFullMask, v.y, o)));
    }
    return v;
}

// Merged over the block; thread 0 gets the result. `red` is 32 entries of shared memory.
__device__ uint2 block_best(uint2 v, uint2* red) {
    v = warp_best(v);
    const unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) red[warp] = v;
    __syncthreads();
    if (warp == 0) v = warp_best(lane < blockDim.x / 32 ? red[lane] : no_best());
    return v;
}

// grid (n_splits, n_requests): like topk_histogram_kernel, with the chunk's best allowed entry in
// place of the histogram.
template <bool kVec, bool kMasked>
__global__ void __launch_bounds__(kHistThreads)
    top1_partial_kernel(const float* __restrict__ logits, uint32_t n_vocab, const TopkRow* __restrict__ requests,
                        const uint32_t* __restrict__ masks, uint32_t n_splits, uint2* __restrict__ best,
                        float2* __restrict__ partials) {
    __shared__ float2 red[32];
    __shared__ uint2 red_best[32];
    const TopkRow& req = requests[blockIdx.y];
    const float* row = logits + uint64_t(req.row) * n_vocab;
    const uint32_t* allow = row_mask<kMasked>(masks, req);
    const uint32_t begin = blockIdx.x * kChunk, end = min(begin + kChunk, n_vocab);
    float m = -INFINITY, s = 0.0f;
    uint2 b = no_best();
    for_each_logit<kVec, kMasked>(row, allow, begin, end, [&](float x, uint32_t id, bool ok) {
        if (ok) b = better(b, make_uint2(order_key(x), id));
        lse_add(m, s, x);
    });
    const float2 ms = block_lse(make_float2(m, s), red);
    b = block_best(b, red_best);
    if (threadIdx.x == 0) {
        partials[uint64_t(blockIdx.y) * n_splits + blockIdx.x] = ms;
        best[uint64_t(blockIdx.y) * n_splits + blockIdx.x] = b;
    }
}

// One block per request: the log-sum-exp, the extras, and the best of the chunks' entries.
__global__ void __launch_bounds__(kHistThreads)
    top1_select_kernel(const float* __restrict__ logits, uint32_t n_vocab, const TopkRow* __restrict__ requests,
                       uint32_t n_splits, const uint2* __restrict__ best, const float2* __restrict__ partials,
                       const int32_t* __restrict__ extra_ids, TopkEntry* __restrict__ top, float* __restrict__ extra_logits,
                       float* __restrict__ log_sum_exp) {
    __shared__ float2 red[32];
    __shared__ uint2 red_best[32];
    const TopkRow req = requests[blockIdx.x];
    const float* row = logits + uint64_t(req.row) * n_vocab;
    float2 ms = make_float2(-INFINITY, 0.0f);
    uint2 b = no_best();
    for (uint32_t i = threadIdx.x; i < n_splits; i += blockDim.x) {
        ms = lse_merge(ms, partials[uint64_t(blockIdx.x) * n_splits + i]);
        b = better(b, best[uint64_t(blockIdx.x) * n_splits + i]);
    }
    ms = block_lse(ms, red);
    b = block_best(b, red_best);
    for (uint32_t i = threadIdx.x; i < req.n_extra; i += blockDim.x) {
        const int32_t id = extra_ids[req.extra_offset + i];
        extra_logits[req.extra_offset + i] = id >= 0 && uint32_t(id) < n_vocab ? row[id] : NAN;
    }
    if (threadIdx.x == 0) {
        log_sum_exp[blockIdx.x] = ms.x + logf(ms.y);
        top[req.top_offset] = b.y == kNoId ? TopkEntry{-1, -INFINITY} : TopkEntry{int32_t(b.y), row[b.y]};
    }
}

}  // namespace

uint64_t topk_workspace_bytes(uint32_t n_requests, uint32_t n_vocab) {
    const uint64_t n_splits = ops::ceil_div(n_vocab, kChunk);
    return uint64_t(n_requests) * (kBins0 * sizeof(uint32_t) + n_splits * sizeof(float2));
}

namespace {

template <bool kVec, bool kMasked>
void launch_top1(const float* logits, uint32_t n_vocab, const TopkRow* requests, uint32_t n_requests, uint32_t n_splits,
                 const int32_t* extra_ids, const uint32_t* masks, TopkEntry* top, float* extra_logits, float* log_sum_exp,
                 uint2* best, float2* partials, cudaStream_t stream) {
    top1_partial_kernel<kVec, kMasked><<<dim3(n_splits, n_requests), kHistThreads, 0, stream>>>(
        logits, n_vocab, requests, masks, n_splits, best, partials);
    check_launch("top1_partial");
    top1_select_kernel<<<n_requests, kHistThreads, 0, stream>>>(logits, n_vocab, requests, n_splits, best, partials, extra_ids,
                                                                 top, extra_logits, log_sum_exp);
    check_launch("top1_select");
}

template <bool kVec, bool kMasked>
void launch_topk(const float* logits, uint32_t n_vocab, const TopkRow* requests, uint32_t n_requests, uint32_t n_splits,
                 const int32_t* extra_ids, const uint32_t* masks, TopkEntry* top, float* extra_logits, float* log_sum_exp,
                 uint32_t* hist, float2* partials, cudaStream_t stream) {
    const dim3 grid(n_splits, n_requests);
    topk_histogram_kernel<kVec, kMasked><<<grid, kHistThreads, 0, stream>>>(logits, n_vocab, requests, masks, n_splits, hist,
                                                                          partials);
    check_launch("topk_histogram");
    topk_select_kernel<kVec, kMasked><<<n_requests, kThreads, 0, stream>>>(logits, n_vocab, requests, masks, n_splits, hist,
                                                                         partials, extra_ids, top, extra_logits, log_sum_exp);
    check_launch("topk_select");
}

}  // namespace

void topk_rows(const float* logits, uint32_t n_vocab, const TopkRow* requests, uint32_t n_requests, uint32_t max_n_top,
               const int32_t* extra_ids, const uint32_t* masks, TopkEntry* top, float* extra_logits, float* log_sum_exp,
               void* workspace, cudaStream_t stream) {
    if (n_requests == 0) return;
    if (n_vocab == 0 || n_vocab > uint32_t(INT_MAX)) ops::invalid("topk_rows: bad vocabulary size " + std::to_string(n_vocab));
    if (max_n_top == 0 || max_n_top > std::min(n_vocab, kTopkMaxCandidates)) {
        ops::invalid("topk_rows: " + std::to_string(max_n_top) + " candidates asked of a row of " + std::to_string(n_vocab) +
                     " (at most " + std::to_string(kTopkMaxCandidates) + ")");
    }
    if (n_requests > 65535) ops::invalid("topk_rows: too many rows (" + std::to_string(n_requests) + ")");
    if (!workspace || (reinterpret_cast<uintptr_t>(workspace) & 7u)) ops::invalid("topk_rows: workspace missing or misaligned");
    if (masks && (reinterpret_cast<uintptr_t>(masks) & 3u)) ops::invalid("topk_rows: masks misaligned");
    const uint32_t n_splits = uint32_t(ops::ceil_div(n_vocab, kChunk));
    auto* hist = static_cast<uint32_t*>(workspace);                                   // (n_requests, kBins0)
    auto* partials = reinterpret_cast<float2*>(hist + uint64_t(n_requests) * kBins0);  // (n_requests, n_splits)
    const bool vec = n_vocab % 4 == 0 && ops::aligned16(logits);
    using T = std::true_type;
    using F = std::false_type;
    // The chunks' best entries (n_requests, n_splits) live where the histograms would (vocabularies
    // up to 16M: 2048 chunks of 8 bytes in a row's 16 KB).
    if (max_n_top == 1 && uint64_t(n_splits) * sizeof(uint2) <= kBins0 * sizeof(uint32_t)) {
        auto* best = reinterpret_cast<uint2*>(hist);
        auto launch1 = [&](auto kVec, auto kMasked) {
            launch_top1<decltype(kVec)::value, decltype(kMasked)::value>(logits, n_vocab, requests, n_requests, n_splits,
                                                                         extra_ids, masks, top, extra_logits, log_sum_exp,
                                                                         best, partials, stream);
        };
        if (vec) masks ? launch1(T{}, T{}) : launch1(T{}, F{});
        else masks ? launch1(F{}, T{}) : launch1(F{}, F{});
        return;
    }
    CUDA_CHECK(cudaMemsetAsync(hist, 0, uint64_t(n_requests) * kBins0 * sizeof(uint32_t), stream));
    auto launch = [&](auto kVec, auto kMasked) {
        launch_topk<decltype(kVec)::value, decltype(kMasked)::value>(logits, n_vocab, requests, n_requests, n_splits, extra_ids,
                                                                     masks, top, extra_logits, log_sum_exp, hist, partials,
                                                                     stream);
    };
    if (vec) masks ? launch(T{}, T{}) : launch(T{}, F{});
    else masks ? launch(F{}, T{}) : launch(F{}, F{});
}

}  // namespace llcuda::cuda
