// Causal attention over the paged KV cache (layout: ops_kv.cuh), one kernel for decode, prefill
// chunks and mixed ragged batches.
//
// Work decomposition. A block (W warps) owns one KV head, a chunk of the query heads that share it
// (all of them when the group has at most 8; one when a decode grid is too small to fill the GPU,
// see kDecodeHeadsPerBlock) and a tile of consecutive batch tokens (one token
// for decode, several for prefill so that K/V rows are read once for more queries); its "rows" are
// the (token, head) pairs of that tile, at most 8. Blocks are further split along the context
// (grid y, flash-decoding) when there are too few of them to fill the GPU: split s covers
// positions [s * split_len, (s+1) * split_len), the last split everything beyond. With one split
// the block writes the output; with several it writes unnormalized partials (acc, running max,
// sum) to `scratch` and a second kernel merges them. Small grids over short contexts (a decode
// step early in a conversation) use 8-warp blocks and no split instead: one kernel, fewer steps.
//
// Inside a block, each position's K and V rows are read by a group of D/8 lanes (16-byte f16 loads,
// 8-byte q8_0 loads, D = head_dim padded to 64/128/256); a warp covers 32/(D/8) positions at once,
// U of them per lane group per step. Loads are double-buffered in registers: the next step's rows
// are in flight while the current step is computed, and the rows of the step after that are
// prefetched into L2, with their page-table entries read one step earlier still; so a warp keeps
// about two steps of K/V bytes on their way from DRAM (~6 KB for Llama-3-8B). Each lane group keeps
// a private online softmax (running max m, sum l, accumulator) per row in registers; scores are in
// base 2 (q is pre-multiplied by scale * log2 e). At the end the lane groups of a warp are merged
// with shuffles and the warps through shared memory; the only barriers are at that merge.
//
// Both kernels are launched with programmatic dependent launch (matvec_stream.cuh): before
// pdl_wait() a block reads only positions and page tables and asks L2 for its first rows; q, the
// newest K/V row (rope_store_kv, the kernel before) and every write come after it.
//
// A tile's tokens may belong to different sequences (a ragged batch); the block then handles each
// run of same-sequence tokens in turn, so K/V rows are only shared within one page table.
//
// Merging splits. Where a block holds one token (decode plans), the split blocks of a (token, head
// chunk) count themselves on a counter in the scratch once their partials are written, and the
// last one merges every split's partial into the output (and puts the counter back to zero for
// the next call or graph replay). The separate merge kernel, which tiled plans still use, costs a
// kernel boundary after the last split; one client decoding after a 512-token prompt (Llama-3-8B,
// 16 splits of 48 positions) spent about as long there as in the splits themselves.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <type_traits>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels.h"
#include "backend/cuda/matvec_stream.cuh"
#include "backend/cuda/ops_attention_mma.h"
#include "backend/cuda/ops_common.cuh"
#include "backend/cuda/ops_kv.cuh"

namespace llcuda::cuda {

namespace {

constexpr uint32_t kMaxRows = 8;          // (token, head) rows per block
constexpr uint32_t kTileTokensFrom = 32;  // batches this large may put several tokens in a block
constexpr uint32_t kMaxSplits = 128;
constexpr uint32_t kMaxTailSplits = 4;    // splits of a decode grid that fills a wave (make_plan)
constexpr uint64_t kChunkedHeadsMaxKvBytes = uint64_t(16) << 20;  // see make_plan's small_grid
constexpr uint32_t kShortSteps = 6;       // contexts covered in this many 8-warp steps skip splitting
constexpr int kCombineThreads = 256;
// Merge counters at the start of the scratch, one per block column of a split grid (grid x); a
// grid wider than this uses the merge kernel instead.
constexpr uint32_t kMergeCounters = 16384;
constexpr uint64_t kMergeCounterBytes = uint64_t(kMergeCounters) * sizeof(uint32_t);
constexpr float kLog2e = 1.4426950408889634f;

// Positions each lane group loads per step (one K and one V row part each, double-buffered), as
// many as the registers left by q and the accumulators of `rows` rows hold without spilling
// (f16 parts take 4 registers, q8_0 parts 3).
__host__ __device__ constexpr int step_units(int rows, KvType type) {
    return rows <= 2 ? 4 : rows <= 4 ? (type == KvType::F16 ? 3 : 4) : 2;
}

// Blocks per SM that the register allocation must allow (__launch_bounds__); the split planner
// assumes exactly this residency. 4-warp blocks: 1 row fits 128 registers, 2-4 rows 168 (4 rows
// of q8_0 spill a word or three at sm_90), 8 rows 255. 8-warp blocks (short contexts, small
// grids) get half, at least one.
__host__ __device__ constexpr int min_blocks(int rows, int warps) {
    const int four = rows <= 1 ? 4 : rows <= 4 ? 3 : 2;
    return warps == 4 ? four : (four * 4 / warps > 0 ? four * 4 / warps : 1);
}

struct Plan {
    uint32_t heads_per_chunk = 1, n_chunks = 1;  // query heads of a group per block, blocks per group
    uint32_t tokens_per_tile = 1, n_tiles = 0;
    uint32_t rows = 1;                           // pow2 >= tokens_per_tile * heads_per_chunk, <= kMaxRows
    uint32_t warps = 4;
    uint32_t n_splits = 1, split_len = 1;
};

uint32_t pow2_at_least(uint32_t n) {
    uint32_t p = 1;
    while (p < n) p *= 2;
    return p;
}

uint32_t padded_dim(const AttentionParams& p) {
    const uint32_t d = std::max(p.head_dim_k, p.head_dim_v);
    return d <= 64 ? 64 : d <= 128 ? 128 : 256;
}

// Cached per device: the first query happens at set-up (attention_scratch_bytes), so nothing but
// cudaGetDevice runs while a graph is being captured.
int sm_count() {
    static std::atomic<int> cache[64] = {};
    int dev = 0, n = 0;
    CUDA_CHECK(cudaGetDevice(&dev));
    const bool cached = dev >= 0 && dev < 64;
    if (cached && (n = cache[dev].load(std::memory_order_relaxed)) > 0) return n;
    CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev));
    n = n > 0 ? n : 1;
    if (cached) cache[dev].store(n, std::memory_order_relaxed);
    return n;
}

// A pure function of the shapes and the SM count, so that attention_scratch_bytes can bound what
// attention() will use: the split count never shrinks as max_kv_len grows (for fixed token and
// sequence counts); attention_scratch_bytes scans the token counts.
//
// Splits: when the (tile, head chunk) blocks cannot fill one wave of the GPU (n_sm * min_blocks),
// the context is cut so that they do, each split at least one step of positions long. One wave,
// not more: every block does the same work, so a second partial wave would only add a tail. A
// decode grid that already fills a wave is split 2..4 ways when that fills its last wave clearly
// better (the split count still only grows with the context). Short
// contexts in small grids take one 8-warp block per (tile, chunk) instead: up to kShortSteps steps
// in one kernel cost about what a split's fill, one step and its merge kernel cost, and a decode
// graph's bucketed max_kv_len (256) usually overstates the context, which the loop does not.
// Query heads per block of untiled (decode) plans whose blocks cannot fill a wave: one. Each
// block then re-reads its KV head's rows (from L2 after the first), but a decode step early in a
// conversation is bound by each block's chain of latencies, not by bytes, and four times the
// blocks with a quarter of the rows each finish sooner. Measured on an H200 (bench_cuda_ops,
// depth 70): Llama-3-8B shape 8.88 -> 5.28 us, Llama-3.2-1B 6.19 -> 4.31 us; tg128 of the 8B
// Q4_K_M bench model 347 -> 367 tok/s, 1B 1191 -> 1286 (caps of 2 and 4 were in between).
// Knobs for such experiments, read once: LLCUDA_ATTN_CHUNK (the cap), LLCUDA_ATTN_SHORT (kShortSteps).
constexpr uint32_t kDecodeHeadsPerBlock = 1;
uint32_t env_knob(const char* name, uint32_t fallback) {
    const char* v = std::getenv(name);
    return v && *v ? uint32_t(std::strtoul(v, nullptr, 10)) : fallback;
}
uint32_t decode_chunk_cap() {
    static const uint32_t cap = env_knob("LLCUDA_ATTN_CHUNK", kDecodeHeadsPerBlock);
    return std::max(1u, std::min(cap, kMaxRows));
}
uint32_t tail_splits() {  // LLCUDA_ATTN_TAIL=1 turns the tail splits off (A/B)
    static const uint32_t cap = env_knob("LLCUDA_ATTN_TAIL", kMaxTailSplits);
    return std::max(1u, std::min(cap, kMaxSplits));
}
bool fused_merge_enabled() {  // LLCUDA_ATTN_FUSED_MERGE=0: the merge kernel always (A/B)
    static const bool on = env_knob("LLCUDA_ATTN_FUSED_MERGE", 1) != 0;
    return on;
}
uint32_t short_steps() {
    static const uint32_t steps = env_knob("LLCUDA_ATTN_SHORT", kShortSteps);
    return steps;
}

Plan make_plan(const AttentionParams& p, KvType kv_type, uint32_t n_tokens, uint32_t n_seqs, uint32_t max_kv_len,
               int n_sm) {
    Plan plan;
    const uint32_t group = p.n_head / p.n_head_kv;
    // Several tokens per tile only pay when sequences have several tokens each (prefill); a decode
    // batch of many sequences would split every tile into one-token runs.
    const bool tiled = n_tokens >= kTileTokensFrom && (n_seqs == 0 || n_tokens >= 2 * n_seqs);
    const uint64_t wave0 = uint64_t(n_sm) * uint64_t(min_blocks(1, 4));
    // Query heads in chunks of one only while the step's K/V rows are few enough to be re-read from
    // L2 (a decode step of a few sequences): 64 sequences x ~576 positions are 151 MB a layer for
    // Llama-3-8B, which one-head blocks read four times, mostly from DRAM (147 us, ~1 TB/s on the H100).
    const uint64_t kv_bytes = uint64_t(n_tokens) * std::max(max_kv_len, 1u) * p.n_head_kv *
                              (kv::slot_bytes(kv_type, 1, p.head_dim_k) + kv::slot_bytes(kv_type, 1, p.head_dim_v));
    const bool small_grid = !tiled && kv_bytes <= kChunkedHeadsMaxKvBytes &&
                            uint64_t(n_tokens) * p.n_head_kv * ops::ceil_div(group, kMaxRows) < wave0;
    plan.heads_per_chunk = std::min(group, small_grid ? decode_chunk_cap() : kMaxRows);
    plan.n_chunks = uint32_t(ops::ceil_div(group, plan.heads_per_chunk));
    plan.tokens_per_tile = tiled ? std::max(1u, kMaxRows / plan.heads_per_chunk) : 1;
    plan.rows = pow2_at_least(plan.tokens_per_tile * plan.heads_per_chunk);
    plan.n_tiles = uint32_t(ops::ceil_div(n_tokens, plan.tokens_per_tile));
    const uint64_t blocks = uint64_t(plan.n_tiles) * p.n_head_kv * plan.n_chunks;
    const uint64_t wave = uint64_t(n_sm) * uint64_t(min_blocks(int(plan.rows), 4));
    const uint32_t kv_len = std::max(max_kv_len, 1u);
    const uint32_t lanes_per_pos = padded_dim(p) / 8;
    const uint32_t per_warp_step = (32 / lanes_per_pos) * uint32_t(step_units(int(plan.rows), kv_type));
    uint64_t splits = 1;
    if (blocks < wave) {
        // 8-warp blocks need W * rows * D floats of shared memory for their merge (at most 32 KB).
        const bool wide_ok = plan.rows * padded_dim(p) <= 1024;
        if (wide_ok && kv_len <= short_steps() * 8 * per_warp_step) {
            plan.warps = 8;
        } else {
            splits = std::min<uint64_t>({wave / blocks, ops::ceil_div(kv_len, 4 * per_warp_step), kMaxSplits});
            splits = std::max<uint64_t>(splits, 1);
        }
    } else if (!tiled) {
        // A decode step of many sequences fills a wave and leaves a partial last one: 64 sequences
        // x 8 KV heads = 512 blocks on 396 slots (H100) keep the GPU 65 % busy over two waves. A
        // split count of 2..4 whose waves are clearly fuller (3: 97 %) wins despite the merge.
        splits = ops::tail_split_count(blocks, wave, std::min<uint64_t>(tail_splits(), ops::ceil_div(kv_len, 4 * per_warp_step)));
    }
    plan.split_len = uint32_t(ops::ceil_div(kv_len, splits));
    plan.n_splits = uint32_t(ops::ceil_div(kv_len, plan.split_len));
    return plan;
}

struct Args {
    const float* q;
    uint32_t q_stride;
    uint32_t n_tokens, n_head, n_head_kv, group, dk, dv;
    float qscale;     // scale * log2(e)
    uint32_t window;  // 0: whole context
    const int32_t* token_pos;
    const int32_t* token_seq;
    const int32_t* page_tables;
    uint32_t table_stride, block_size;
    int32_t block_shift;  // log2(block_size) when it is a power of two, else -1
    const uint8_t* k_pool;
    const uint8_t* v_pool;
    uint32_t k_slot_bytes, v_slot_bytes;  // < 4 GB: a slot is one position of one layer
    uint32_t heads_per_chunk, n_chunks, tokens_per_tile, n_splits, split_len;
    float* out;
    float* part_acc;  // (n_tokens, n_head, n_splits, dv)
    float* part_ml;   // (n_tokens, n_head, n_splits, 2): running max (base 2), sum
    uint32_t* merge_counters;  // (grid x) zeros, or nullptr: the merge kernel runs after this one
};

// A hint that the 128-byte line at p will be read soon: fetched into L2 without using a register.
__device__ __forceinline__ void prefetch_l2(const void* p) {
#if defined(__CUDA_ARCH__)
    asm volatile("prefetch.global.L2 [%0];" ::"l"(p));
#else
    (void)p;
#endif
}

// The 8 consecutive elements [dim0, dim0 + 8) of one head's row in a slot.
template <KvType kType>
struct RowPart {
    // f16: 8 halves; q8_0: 8 int8 and the block's scale
    typename std::conditional<kType == KvType::F16, uint4, uint2>::type raw;
    float scale;

    static constexpr uint32_t kBytes = kType == KvType::F16 ? 16 : 8;

    // `at`: the part's byte offset in the slot; `scale_at`: its q8_0 scale's.
    __device__ __forceinline__ void load(const uint8_t* slot, uint32_t at, uint32_t scale_at) {
        if constexpr (kType == KvType::F16) {
            raw = *reinterpret_cast<const uint4*>(slot + at);
            scale = 1.0f;
        } else {
            raw = *reinterpret_cast<const uint2*>(slot + at);
            scale = __half2float(*reinterpret_cast<const __half*>(slot + scale_at));
        }
    }
    // Lanes whose part starts a 128-byte line (or the row) ask for that line; q8_0's first lane
    // also asks for the line with the row's scales.
    static __device__ __forceinline__ void prefetch(const uint8_t* slot, uint32_t at, uint32_t scale_at, bool first) {
        const uint8_t* p = slot + at;
        if (first || (reinterpret_cast<uintptr_t>(p) & 127u) < kBytes) prefetch_l2(p);
        if (kType == KvType::Q8_0 && first) prefetch_l2(slot + scale_at);
    }

    // Byte offsets in a slot of the 8 elements from `elem` (head-major index) and of their scale.
    static __device__ __forceinline__ uint32_t offset_of(uint32_t elem) {
        return kType == KvType::F16 ? elem * 2 : elem;
    }
    static __device__ __forceinline__ uint32_t scale_offset_of(uint32_t elem, uint32_t n_head_kv, uint32_t head_dim) {
        return kType == KvType::F16 ? 0 : uint32_t(kv::q8_quant_bytes(n_head_kv, head_dim)) + elem / kv::kQ8Block * 2;
    }
    // Zero values (positions past the end; lanes past the head); f16's scale stays the constant 1.
    __device__ __forceinline__ void clear() {
        if constexpr (kType == KvType::F16) {
            raw = make_uint4(0, 0, 0, 0);
            scale = 1.0f;
        } else {
            raw = make_uint2(0, 0);
            scale = 0.0f;
        }
    }
    // Values without the q8_0 scale (the caller multiplies once per dot product or weight).
    __device__ __forceinline__ void unpack(float (&x)[8]) const {
        if constexpr (kType == KvType::F16) {
            const __half2* h = reinterpret_cast<const __half2*>(&raw);
#pragma unroll
            for (int i = 0; i < 4; ++i) {
                const float2 f = __half22float2(h[i]);
                x[2 * i] = f.x;
                x[2 * i + 1] = f.y;
            }
        } else {
            // Each int8 q, offset to q + 128, becomes the low byte of the float 2^23 + q + 128
            // (one byte permute), then one subtraction: exact, and no quarter-rate I2F.
            const uint32_t lo = raw.x ^ 0x80808080u, hi = raw.y ^ 0x80808080u;
            constexpr float kBias = 8388608.0f + 128.0f;
#pragma unroll
            for (int i = 0; i < 4; ++i) {
                x[i] = __uint_as_float(__byte_perm(lo, 0x4B000000u, 0x7440u + unsigned(i))) - kBias;
                x[4 + i] = __uint_as_float(__byte_perm(hi, 0x4B000000u, 0x7440u + unsigned(i))) - kBias;
            }
        }
    }
};

// The output rows of a block column (n_rows (token, head) rows from token t0, heads from head0, hc
// a token) from every split's partial: the same weighting as attention_combine_kernel, as one
// online pass over the splits per (row, column). Partials of other blocks are read from L2 (__ldcg:
// this SM's L1 may not have seen them).
// Not inlined: the main loop's register budget stays as it was (the merge runs once, at the end).
__device__ __noinline__ void merge_split_rows(const float* part_acc, const float* part_ml, float* out, uint32_t n_splits,
                                              uint32_t dv, uint32_t n_head, uint32_t t0, uint32_t head0, uint32_t hc,
                                              uint32_t n_rows) {
    for (uint32_t idx = threadIdx.x; idx < n_rows * dv; idx += blockDim.x) {
        const uint32_t r = idx / dv, d = idx % dv;
        const uint64_t row = uint64_t(t0 + r / hc) * n_head + head0 + r % hc;
        const float* ml = part_ml + row * n_splits * 2;
        const float* acc = part_acc + row * n_splits * dv + d;
        float m = -INFINITY, num = 0.0f, den = 0.0f;
        for (uint32_t s0 = 0; s0 < n_splits; s0 += 4) {
            float ms[4], ls[4], xs[4];
#pragma unroll
            for (int k = 0; k < 4; ++k) {  // all loads of four splits in flight at once
                const uint32_t sp = s0 + uint32_t(k);
                const bool in = sp < n_splits;
                ms[k] = in ? __ldcg(ml + 2 * sp) : -INFINITY;
                ls[k] = in ? __ldcg(ml + 2 * sp + 1) : 0.0f;
                xs[k] = in ? __ldcg(acc + uint64_t(sp) * dv) : 0.0f;
            }
#pragma unroll
            for (int k = 0; k < 4; ++k) {
                if (ms[k] == -INFINITY) continue;  // an empty split (past the context)
                const float m_new = fmaxf(m, ms[k]);
                const float fa = m == -INFINITY ? 0.0f : exp2f(m - m_new), fb = exp2f(ms[k] - m_new);
                num = num * fa + xs[k] * fb;
                den = den * fa + ls[k] * fb;
                m = m_new;
            }
        }
        out[row * dv + d] = den > 0.0f ? num / den : 0.0f;
    }
}

template <int D, int R, int W, KvType kType>
__global__ void __launch_bounds__(W * 32, min_blocks(R, W)) attention_kernel(const Args a) {
    constexpr int L = D / 8;   // lanes per position
    constexpr int P = 32 / L;  // positions per warp per step and unit
    constexpr int U = step_units(R, kType);
    constexpr uint32_t kStep = W * P * U;  // positions per block per step
    static_assert(W * R * D <= 8192, "merge buffer over 32 KB");
    __shared__ float s_acc[W][R][D];
    __shared__ float s_m[W][R], s_l[W][R];
    __shared__ bool s_merges;  // this block is its column's last split: it merges them all

    const uint32_t warp = threadIdx.x / 32, lane = threadIdx.x % 32, sub = lane / L, li = lane % L;
    const uint32_t dim0 = li * 8;
    const bool k_lane = dim0 < a.dk, v_lane = dim0 < a.dv;

    uint32_t bx = blockIdx.x;
    const uint32_t chunk = bx % a.n_chunks;
    bx /= a.n_chunks;
    const uint32_t kvh = bx % a.n_head_kv, tile = bx / a.n_head_kv;
    const uint32_t split = blockIdx.y;
    const uint32_t t_begin = tile * a.tokens_per_tile;
    const uint32_t t_end = min(t_begin + a.tokens_per_tile, a.n_tokens);
    const uint32_t head0 = kvh * a.group + chunk * a.heads_per_chunk;
    const uint32_t hc = min(a.heads_per_chunk, a.group - chunk * a.heads_per_chunk);
    const uint32_t s_begin = split * a.split_len;
    const uint32_t s_end = split + 1 == a.n_splits ? UINT_MAX : s_begin + a.split_len;

    // This lane's part of head kvh in any slot, and (q8_0) where the slot's scales start.
    using Part = RowPart<kType>;
    const uint32_t k_at = Part::offset_of(kvh * a.dk + dim0), v_at = Part::offset_of(kvh * a.dv + dim0);
    const uint32_t k_sat = Part::scale_offset_of(kvh * a.dk + dim0, a.n_head_kv, a.dk);
    const uint32_t v_sat = Part::scale_offset_of(kvh * a.dv + dim0, a.n_head_kv, a.dv);
    const uint32_t bs = a.block_size;

    for (uint32_t t0 = t_begin; t0 < t_end;) {
        const int32_t seq = a.token_seq[t0];
        uint32_t t1 = t0 + 1;
        while (t1 < t_end && a.token_seq[t1] == seq) ++t1;
        const uint32_t n_rows = (t1 - t0) * hc;

        // Row r attends to positions j <= hi[r] with hi[r] - j < span (the window, or everything).
        float q[R][8], acc[R][8], m[R], l[R];
        uint32_t hi[R];
        const uint32_t span = a.window > 0 ? a.window : UINT_MAX;
        uint32_t jlo = UINT_MAX, jhi = 0;  // union of the rows' ranges, [jlo, jhi)
#pragma unroll
        for (int r = 0; r < R; ++r) {
            m[r] = -INFINITY;
            l[r] = 0.0f;
            hi[r] = 0;
#pragma unroll
            for (int i = 0; i < 8; ++i) q[r][i] = acc[r][i] = 0.0f;
            if (uint32_t(r) < n_rows) {
                const uint32_t pos = uint32_t(a.token_pos[t0 + uint32_t(r) / hc]);
                hi[r] = pos;
                jlo = min(jlo, pos + 1 > span ? pos + 1 - span : 0u);
                jhi = max(jhi, pos + 1);
            }
        }

        const uint32_t jbeg = max(jlo, s_begin), jend = min(jhi, s_end);
        const int32_t* table = a.page_tables + uint64_t(seq) * a.table_stride;
        // Unit u of this lane group in the step that starts at `base`.
        auto pos_of = [&](uint32_t base, int u) { return base + (uint32_t(u) * W + warp) * P + sub; };
        // Slots (from the page table) of the next step to load (sl0) and of the one after it (sl1).
        uint32_t sl0[U], sl1[U];
        auto fetch_slots = [&](uint32_t(&sl)[U], uint32_t base) {
#pragma unroll
            for (int u = 0; u < U; ++u) {
                const uint32_t j = pos_of(base, u);
                const uint32_t blk = a.block_shift >= 0 ? j >> a.block_shift : j / bs;
                sl[u] = j < jend ? uint32_t(table[blk]) * bs + (j - blk * bs) : 0;
            }
        };
        // Asks L2 for the rows of the step at `base` (slots sl).
        auto prefetch_step = [&](const uint32_t(&sl)[U], uint32_t base) {
#pragma unroll
            for (int u = 0; u < U; ++u) {
                if (pos_of(base, u) < jend) {
                    const uint64_t slot = sl[u];
                    if (k_lane) Part::prefetch(a.k_pool + slot * a.k_slot_bytes, k_at, k_sat, li == 0);
                    if (v_lane) Part::prefetch(a.v_pool + slot * a.v_slot_bytes, v_at, v_sat, li == 0);
                }
            }
        };
        // Loads the rows of the step at `base` into registers, prefetches the next step's rows into
        // L2 and looks up the slots of the step after that.
        auto issue = [&](Part(&kr)[U], Part(&vr)[U], uint32_t base) {
#pragma unroll
            for (int u = 0; u < U; ++u) {
                const uint32_t j = pos_of(base, u);
                kr[u].clear();
                vr[u].clear();
                if (j < jend) {
                    if (k_lane) kr[u].load(a.k_pool + uint64_t(sl0[u]) * a.k_slot_bytes, k_at, k_sat);
                    if (v_lane) vr[u].load(a.v_pool + uint64_t(sl0[u]) * a.v_slot_bytes, v_at, v_sat);
                }
            }
            prefetch_step(sl1, base + kStep);
#pragma unroll
            for (int u = 0; u < U; ++u) sl0[u] = sl1[u];
            fetch_slots(sl1, base + 2 * kStep);
        };
        // Scores of one step's positions (-inf where a row must not look), then one online softmax
        // update per row for all of them: one rescale of the accumulator per step.
        auto consume = [&](const Part(&kr)[U], const Part(&vr)[U], uint32_t base) {
            float sc[U][R];
#pragma unroll
            for (int u = 0; u < U; ++u) {
                float kx[8];
                kr[u].unpack(kx);
                const uint32_t j = pos_of(base, u);
                const bool in_split = j < jend;
#pragma unroll
                for (int r = 0; r < R; ++r) {
                    sc[u][r] = -INFINITY;
                    if (uint32_t(r) >= n_rows) continue;  // uniform over the block
                    float s = 0.0f;
#pragma unroll
                    for (int i = 0; i < 8; ++i) s += q[r][i] * kx[i];
                    s *= kr[u].scale;
#pragma unroll
                    for (int o = L / 2; o > 0; o >>= 1) s += __shfl_xor_sync(ops::kFullMask, s, o);
                    if (in_split && j <= hi[r] && hi[r] - j < span) sc[u][r] = s;
                }
            }
            // Weights: sc becomes p (times the q8_0 scale of the V row); acc is rescaled once.
#pragma unroll
            for (int r = 0; r < R; ++r) {
                float m_new = m[r];
#pragma unroll
                for (int u = 0; u < U; ++u) m_new = fmaxf(m_new, sc[u][r]);
                if (m_new == -INFINITY) continue;  // nothing seen yet (also rows past n_rows)
                const float alpha = exp2f(m[r] - m_new);  // 0 while m is still -inf
                float p_sum = 0.0f;
#pragma unroll
                for (int u = 0; u < U; ++u) {
                    const float p = exp2f(sc[u][r] - m_new);  // 0 for masked positions
                    p_sum += p;
                    sc[u][r] = p * vr[u].scale;
                }
                l[r] = l[r] * alpha + p_sum;
#pragma unroll
                for (int i = 0; i < 8; ++i) acc[r][i] *= alpha;
                m[r] = m_new;
            }
            // V rows one at a time (8 floats live), each into every row's accumulator. Rows whose
            // max is still -inf have sc = -inf here and must not touch acc: skipped like above.
#pragma unroll
            for (int u = 0; u < U; ++u) {
                float vx[8];
                vr[u].unpack(vx);
#pragma unroll
                for (int r = 0; r < R; ++r) {
                    if (m[r] == -INFINITY) continue;
#pragma unroll
                    for (int i = 0; i < 8; ++i) acc[r][i] += sc[u][r] * vx[i];
                }
            }
        };

        // Before pdl_wait only what earlier kernels or the host wrote: positions, page tables, and
        // an L2 prefetch of the first step's rows (a hint; the newest row may still be in writing).
        if (jbeg < jend) {
            fetch_slots(sl0, jbeg);
            fetch_slots(sl1, jbeg + kStep);
            prefetch_step(sl0, jbeg);
        }
        pdl_wait();  // q and this step's K/V row come from the previous kernels
        pdl_launch_dependents();
#pragma unroll
        for (int r = 0; r < R; ++r) {
            if (uint32_t(r) < n_rows && k_lane) {
                const uint32_t tok = t0 + uint32_t(r) / hc, head = head0 + uint32_t(r) % hc;
                const float* qr = a.q + uint64_t(tok) * a.q_stride + uint64_t(head) * a.dk + dim0;
#pragma unroll
                for (int i = 0; i < 8; ++i) q[r][i] = qr[i] * a.qscale;
            }
        }

        // The loop bounds are the same for the whole block, so every lane reaches every shuffle.
        if (jbeg < jend) {
            Part ka[U], va[U], kb[U], vb[U];
            issue(ka, va, jbeg);
            for (uint32_t base = jbeg;; base += 2 * kStep) {
                issue(kb, vb, base + kStep);  // loads nothing past the end
                consume(ka, va, base);
                if (base + kStep >= jend) break;
                issue(ka, va, base + 2 * kStep);
                consume(kb, vb, base + kStep);
                if (base + 2 * kStep >= jend) break;
            }
        }

        // Merge the lane groups of each warp (they hold different positions, same dims).
#pragma unroll
        for (int o = L; o < 32; o <<= 1) {
#pragma unroll
            for (int r = 0; r < R; ++r) {
                if (uint32_t(r) >= n_rows) continue;
                const float m_o = __shfl_xor_sync(ops::kFullMask, m[r], o);
                const float l_o = __shfl_xor_sync(ops::kFullMask, l[r], o);
                const float m_new = fmaxf(m[r], m_o);
                const float fa = m[r] == -INFINITY ? 0.0f : exp2f(m[r] - m_new);
                const float fb = m_o == -INFINITY ? 0.0f : exp2f(m_o - m_new);
                l[r] = l[r] * fa + l_o * fb;
#pragma unroll
                for (int i = 0; i < 8; ++i) {
                    const float acc_o = __shfl_xor_sync(ops::kFullMask, acc[r][i], o);
                    acc[r][i] = acc[r][i] * fa + acc_o * fb;
                }
                m[r] = m_new;
            }
        }
        if (sub == 0) {
#pragma unroll
            for (int r = 0; r < R; ++r) {
                if (uint32_t(r) >= n_rows) continue;
                if (v_lane) {
#pragma unroll
                    for (int i = 0; i < 8; ++i) s_acc[warp][r][dim0 + i] = acc[r][i];
                }
                if (li == 0) {
                    s_m[warp][r] = m[r];
                    s_l[warp][r] = l[r];
                }
            }
        }
        __syncthreads();

        // Merge the warps and write the output row (one split) or this split's partial.
        for (uint32_t idx = threadIdx.x; idx < n_rows * a.dv; idx += W * 32) {
            const uint32_t r = idx / a.dv, d = idx % a.dv;
            float m_all = -INFINITY;
#pragma unroll
            for (int w = 0; w < W; ++w) m_all = fmaxf(m_all, s_m[w][r]);
            float num = 0.0f, den = 0.0f;
#pragma unroll
            for (int w = 0; w < W; ++w) {
                if (s_m[w][r] == -INFINITY) continue;
                const float f = exp2f(s_m[w][r] - m_all);
                num += f * s_acc[w][r][d];
                den += f * s_l[w][r];
            }
            const uint64_t row = uint64_t(t0 + r / hc) * a.n_head + head0 + r % hc;  // (token, head)
            if (a.n_splits == 1) {
                a.out[row * a.dv + d] = den > 0.0f ? num / den : 0.0f;
            } else {
                const uint64_t part = row * a.n_splits + split;
                a.part_acc[part * a.dv + d] = num;
                if (d == 0) {
                    a.part_ml[2 * part] = m_all;
                    a.part_ml[2 * part + 1] = den;
                }
            }
        }
        if (a.n_splits > 1 && a.merge_counters) {  // one run per block (decode plans only)
            __threadfence();  // this block's partials reach L2 before it counts itself
            __syncthreads();
            if (threadIdx.x == 0) {
                s_merges = atomicAdd(&a.merge_counters[blockIdx.x], 1u) + 1 == a.n_splits;
                if (s_merges) a.merge_counters[blockIdx.x] = 0;  // every split has counted: back to zero
            }
            __syncthreads();
            if (s_merges) {
                __threadfence();
                merge_split_rows(a.part_acc, a.part_ml, a.out, a.n_splits, a.dv, a.n_head, t0, head0, hc, n_rows);
            }
        }
        __syncthreads();  // shared memory is reused by the next run
        t0 = t1;
    }
}

// One block per (token, head): weights each split's partial by exp2(m_s - max) and normalizes.
// Every split's (m, l) is read by its own thread and each thread sums up to 8 splits' float4
// columns with all loads in flight at once, so the merge is two or three memory round trips.
__global__ void __launch_bounds__(kCombineThreads)
    attention_combine_kernel(const float* part_acc, const float* part_ml, uint32_t n_splits, uint32_t dv, float* out) {
    __shared__ float w[kMaxSplits];
    __shared__ float red[32];
    __shared__ float4 s_part[kCombineThreads];
    static_assert(kMaxSplits <= kCombineThreads, "one thread per split");
    const uint64_t row = blockIdx.x;
    const uint32_t tid = threadIdx.x;
    pdl_wait();
    pdl_launch_dependents();
    const float* ml = part_ml + row * n_splits * 2;
    float m = -INFINITY, l = 0.0f;
    if (tid < n_splits) {
        m = ml[2 * tid];
        l = ml[2 * tid + 1];
    }
    const float m_all = ops::block_max(m, red);
    const float ws = m == -INFINITY ? 0.0f : exp2f(m - m_all);
    if (tid < n_splits) w[tid] = ws;
    const float den = ops::block_sum(ws * l, red);  // its barriers also publish w

    const uint32_t c4 = dv / 4, groups = kCombineThreads / c4;  // dv % 4 == 0 (a multiple of 8)
    const uint32_t col = tid % c4, grp = tid / c4;
    float4 num = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    if (grp < groups) {
        const float4* acc = reinterpret_cast<const float4*>(part_acc + row * n_splits * dv);
        for (uint32_t s0 = grp; s0 < n_splits; s0 += 8 * groups) {
            float4 v[8];
#pragma unroll
            for (int k = 0; k < 8; ++k) {
                const uint32_t s = s0 + uint32_t(k) * groups;
                v[k] = s < n_splits ? acc[uint64_t(s) * c4 + col] : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
            }
#pragma unroll
            for (int k = 0; k < 8; ++k) {
                const uint32_t s = s0 + uint32_t(k) * groups;
                const float f = s < n_splits ? w[s] : 0.0f;
                num.x += f * v[k].x;
                num.y += f * v[k].y;
                num.z += f * v[k].z;
                num.w += f * v[k].w;
            }
        }
    }
    s_part[tid] = num;
    __syncthreads();
    if (tid < c4) {
        float4 t = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        for (uint32_t g = 0; g < groups; ++g) {
            const float4 p = s_part[g * c4 + tid];
            t.x += p.x;
            t.y += p.y;
            t.z += p.z;
            t.w += p.w;
        }
        const float inv = den > 0.0f ? 1.0f / den : 0.0f;
        float* o = out + row * dv + 4 * tid;
        o[0] = t.x * inv;
        o[1] = t.y * inv;
        o[2] = t.z * inv;
        o[3] = t.w * inv;
    }
}

template <int D, int R, int W>
void launch_type(const Args& a, dim3 grid, KvType type, cudaStream_t stream) {
    launch_stream_kernel(type == KvType::F16 ? attention_kernel<D, R, W, KvType::F16>
                                             : attention_kernel<D, R, W, KvType::Q8_0>,
                         grid, dim3(W * 32), 0, stream, "attention", a);
}

template <int D, int R>
void launch_warps(const Args& a, uint32_t warps, dim3 grid, KvType type, cudaStream_t stream) {
    if constexpr (R * D <= 1024) {
        if (warps == 8) {
            launch_type<D, R, 8>(a, grid, type, stream);
            return;
        }
    }
    launch_type<D, R, 4>(a, grid, type, stream);
}

template <int D>
void launch_dim(const Args& a, const Plan& plan, dim3 grid, KvType type, cudaStream_t stream) {
    switch (plan.rows) {
        case 1: launch_warps<D, 1>(a, plan.warps, grid, type, stream); break;
        case 2: launch_warps<D, 2>(a, plan.warps, grid, type, stream); break;
        case 4: launch_warps<D, 4>(a, plan.warps, grid, type, stream); break;
        default: launch_warps<D, 8>(a, plan.warps, grid, type, stream); break;
    }
}

}  // namespace

void attention_merge_splits(const float* part_acc, const float* part_ml, uint32_t n_rows, uint32_t n_splits,
                            uint32_t dv, float* out, cudaStream_t stream) {
    if (n_splits > kMaxSplits || dv % 4 != 0 || dv / 4 > uint32_t(kCombineThreads)) {
        ops::invalid("attention: split merge of " + std::to_string(n_splits) + " splits of " + std::to_string(dv) +
                     " columns is not supported");
    }
    launch_stream_kernel(attention_combine_kernel, dim3(n_rows), dim3(kCombineThreads), 0, stream,
                         "attention (split combine)", part_acc, part_ml, n_splits, dv, out);
}

uint64_t attention_scratch_bytes(const AttentionParams& p, uint32_t max_tokens, uint32_t max_kv_len) {
    if (p.n_head_kv == 0 || p.n_head % p.n_head_kv != 0) {
        ops::invalid("attention_scratch_bytes: " + std::to_string(p.n_head) + " query heads cannot share " +
                     std::to_string(p.n_head_kv) + " KV heads evenly");
    }
    const int n_sm = sm_count();
    uint64_t bytes = attention_mma_scratch_bytes(p, max_tokens, max_kv_len);  // the tensor-core path's
    // The split count grows with the context within each of make_plan's two decode regimes (query
    // heads chunked while the step's K/V bytes are small, whole groups above), so each regime's
    // largest context below max_kv_len bounds it: max_kv_len, and the last chunked length.
    for (uint32_t n = 1; n <= max_tokens; ++n) {
        // Sequence count unknown (tiles from kTileTokensFrom tokens) or one per token (no tiles).
        for (const uint32_t n_seqs : {0u, n}) {
            for (const KvType t : {KvType::F16, KvType::Q8_0}) {
                const uint64_t per_pos = uint64_t(n) * p.n_head_kv *
                                         (kv::slot_bytes(t, 1, p.head_dim_k) + kv::slot_bytes(t, 1, p.head_dim_v));
                const uint64_t last_chunked = kChunkedHeadsMaxKvBytes / std::max<uint64_t>(per_pos, 1);
                for (const uint64_t kv_len : {uint64_t(max_kv_len), std::min<uint64_t>(last_chunked, max_kv_len)}) {
                    if (kv_len == 0) continue;
                    const Plan plan = make_plan(p, t, n, n_seqs, uint32_t(kv_len), n_sm);
                    if (plan.n_splits > 1) {
                        bytes = std::max(bytes, uint64_t(n) * p.n_head * plan.n_splits * (p.head_dim_v + 2) * sizeof(float));
                    }
                }
            }
        }
    }
    return kMergeCounterBytes + bytes;  // the merge counters, then either kernel's partials
}

void attention(const float* q, uint32_t q_stride, const AttentionParams& p, const DeviceBatch& batch, KvLayer kv,
               KvType kv_type, float* out, void* scratch, cudaStream_t stream) {
    if (batch.n_tokens == 0) return;
    kv::check_shape("attention", kv_type, p.n_head, p.n_head_kv, p.head_dim_k, p.head_dim_v, batch, kv);
    if (q_stride < uint64_t(p.n_head) * p.head_dim_k) ops::invalid("attention: q row stride smaller than its heads");
    // f16 and q8_0 caches at the shapes the tensor-core kernel covers go there (ops_attention_mma.cu
    // says which); other head dims, groups over 8, short decode contexts of 1-3 sequences and tiny
    // batches stay here.
    // The scratch starts with the merge counters (zeros between calls); partials come after them.
    uint32_t* const merge_counters = static_cast<uint32_t*>(scratch);
    void* const partials = scratch ? static_cast<uint8_t*>(scratch) + kMergeCounterBytes : nullptr;
    if (attention_uses_mma(p, kv_type, batch.n_tokens, batch.n_seqs, batch.max_kv_len, q, q_stride) &&
        (reinterpret_cast<uintptr_t>(out) & 7u) == 0) {
        attention_mma(q, q_stride, p, batch, kv, kv_type, out, partials, stream);
        return;
    }
    const Plan plan = make_plan(p, kv_type, batch.n_tokens, batch.n_seqs, batch.max_kv_len, sm_count());
    if (plan.n_splits > 1 && scratch == nullptr) {
        ops::invalid("attention: no scratch buffer for split-KV partials (attention_scratch_bytes)");
    }

    Args a{};
    a.q = q;
    a.q_stride = q_stride;
    a.n_tokens = batch.n_tokens;
    a.n_head = p.n_head;
    a.n_head_kv = p.n_head_kv;
    a.group = p.n_head / p.n_head_kv;
    a.dk = p.head_dim_k;
    a.dv = p.head_dim_v;
    a.qscale = p.scale * kLog2e;
    a.window = p.sliding_window;
    a.token_pos = batch.token_pos;
    a.token_seq = batch.token_seq;
    a.page_tables = batch.page_tables;
    a.table_stride = batch.table_stride;
    a.block_size = batch.block_size;
    a.block_shift = -1;
    for (int s = 0; s < 32; ++s) {
        if ((1u << s) == batch.block_size) a.block_shift = s;
    }
    a.k_pool = static_cast<const uint8_t*>(kv.k);
    a.v_pool = static_cast<const uint8_t*>(kv.v);
    a.k_slot_bytes = uint32_t(kv::slot_bytes(kv_type, p.n_head_kv, p.head_dim_k));
    a.v_slot_bytes = uint32_t(kv::slot_bytes(kv_type, p.n_head_kv, p.head_dim_v));
    a.heads_per_chunk = plan.heads_per_chunk;
    a.n_chunks = plan.n_chunks;
    a.tokens_per_tile = plan.tokens_per_tile;
    a.n_splits = plan.n_splits;
    a.split_len = plan.split_len;
    a.out = out;
    const uint64_t n_parts = uint64_t(batch.n_tokens) * p.n_head * plan.n_splits;
    a.part_acc = static_cast<float*>(partials);
    a.part_ml = plan.n_splits > 1 ? a.part_acc + n_parts * p.head_dim_v : nullptr;

    const dim3 grid(plan.n_tiles * p.n_head_kv * plan.n_chunks, plan.n_splits);
    // In-kernel merge where every block holds one run (one token a tile) and a counter per column.
    const bool fused_merge = plan.n_splits > 1 && plan.tokens_per_tile == 1 && grid.x <= kMergeCounters && fused_merge_enabled();
    a.merge_counters = fused_merge ? merge_counters : nullptr;
    switch (padded_dim(p)) {
        case 64: launch_dim<64>(a, plan, grid, kv_type, stream); break;
        case 128: launch_dim<128>(a, plan, grid, kv_type, stream); break;
        default: launch_dim<256>(a, plan, grid, kv_type, stream); break;
    }
    if (plan.n_splits > 1 && !fused_merge) {
        launch_stream_kernel(attention_combine_kernel, dim3(unsigned(uint64_t(batch.n_tokens) * p.n_head)),
                             dim3(kCombineThreads), 0, stream, "attention (split combine)",
                             static_cast<const float*>(a.part_acc), static_cast<const float*>(a.part_ml),
                             plan.n_splits, p.head_dim_v, out);
    }
}

}  // namespace llcuda::cuda
