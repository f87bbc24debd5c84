// Causal attention over the paged f16 or q8_0 KV cache on tensor cores (FlashAttention-2 on
// mma.sync.m16n8k16, f16 inputs, f32 accumulation). attention() (ops_attention.cu) sends caches
// here when attention_uses_mma() says so; everything else keeps the CUDA-core kernel.
//
// Rows. A block owns one KV head and a tile of batch tokens of ONE sequence run (consecutive
// tokens with the same token_seq); its query rows are the (token, query head) pairs of that tile,
// token-major: row r = (token r / group, head r % group) of the KV head's group. So every K/V tile
// brought into shared memory serves the whole GQA group of every token of the tile.
//   prefill config: 4 warps x 16 rows = 64 rows (64 / group tokens), each warp all keys of a tile;
//   decode config:  1 token, its group padded to one 16-row mma tile, 2 warps that take half of
//                   each 32-position K/V tile each (16 keys) and merge (m, l, acc) through shared
//                   memory at the end.
// Tiles per sequence run: with one sequence (n_seqs == 1) or pure decode (1 token per tile) they
// are fixed; otherwise a one-block planner kernel cuts the runs of token_seq into tiles of at most
// 64 / group tokens and writes their first tokens to the scratch, so a decode token in a mixed
// batch gets its own tile instead of sharing (and serializing) one with other sequences. Runs are
// found on the device, so nothing assumes token_seq is sorted: an unsorted batch only makes more
// tiles (blocks then loop over the tile list).
//
// K/V tiles. BN positions (prefill 64, 32 at head_dim 256; decode 32) of K and V are copied with
// cp.async (16 bytes per thread and row part; a plain load before sm_80) straight from their slots
// (page table looked up per position, never beyond the run's last position: positions past it
// are zero-filled) into a ring of NS stages: tiles i+1 .. i+NS-1 are in flight while tile i is
// computed (MmaCfg::NS: prefill 2, decode 4, 3 at head_dim 256). In the decode config each warp
// copies, converts and reads only its own 16 rows of every tile, so its stages are private and
// the pipeline has no block barrier (__syncwarp orders cp.async data between its lanes).
// q8_0 caches: the int8 quants (16-byte copies) and the row's f16 scales (one D/16-byte copy) go
// into NS raw stages (half the bytes of f16, so NS is deeper for the same shared memory: prefill 3,
// 2 at head_dim 256; decode 6 / 4 / 3 at head_dim 64 / 128 / 256). Each prefill tile, once landed,
// is converted (quant * scale, rounded to f16 once, a byte permute and two half2 operations per
// pair) into a single f16 stage that the products below read exactly as they read an f16 tile. The
// decode config instead converts in registers: ldmatrix reads the int8 rows (each 16-bit element
// two quants, rows padded to D + 16 bytes), and the same arithmetic turns each word into B
// fragments of the products (qk_q8_raw, pv_q8_raw in attention_mma_tile.cuh), so no f16 stage, no
// conversion pass and no barrier between them: with the f16 stage's shared memory gone, 5 blocks
// fit per SM instead of 3 at head_dim 128 (10 warps), and decode at 16k-32k reads its q8_0 cache
// 1.24-1.30x faster (H200, bench_cuda_ops; as fast as f16 end to end). Shared rows
// are padded by 16 bytes (stride head_dim + 8 halves), so ldmatrix's eight 16-byte rows fall in
// distinct banks. S = Q K^T from ldmatrix'd K (B operand, no transpose), P V from ldmatrix.trans'd
// V; P reuses S's accumulator registers as the A operand (f16). Q is converted to f16 (times
// scale * log2 e) when loaded into shared memory; at head_dim <= 128 its fragments stay in
// registers, at 256 they are re-read from shared memory per tile (registers go to the 16 x 256
// accumulator).
//
// Masks and softmax. Key j is allowed for a row at position p iff lo <= j <= p (lo = p + 1 -
// window for a sliding window, else 0) and j lies in this block's split; online softmax in base 2
// with the running max of a row that has seen no allowed key replaced by 0 in the exponent, so a
// fully masked row gives exp2(-inf) = 0, never exp2(-inf - -inf) = NaN; padding rows are such rows.
//
// Split-KV (flash-decoding). When (tile, KV head) blocks cannot fill the GPU (half a wave), grid y
// cuts the context into splits of whole K/V tiles; each block writes its rows' unnormalized
// (acc, max, sum) to the scratch and attention_merge_splits (ops_attention.cu) combines them.
//
// Tolerance. q and P are rounded to f16 (relative 2^-11 at worst), K/V are f16 already, products
// and sums f32: against float64 on the decoded cache the normalized error should be 2e-4 - 6e-4
// (q rounding shifts each score by ~3e-4 relative; P rounding perturbs each weight by ~3e-4,
// averaging out over keys); tests/cuda/attention_cases.cu accepts 2e-3. q8_0 adds one rounding
// of each K and V value (quant * scale to f16; the q8_0 rounding itself is in the decoded
// reference): a lane-level emulation gave 3-4e-4 against 2-3e-4 for f16 on the same shapes.
//
// Decode at depth, what changed and why (was: 4 warps x 64-position tiles, 2 block-wide stages,
// 3 blocks/SM at head_dim 128; ~2.9 TB/s of 4.27 at 16k on an H200, from end-to-end tok/s). A
// decode block's products are tiny, so its time is the latency of the tiles it waits for; with two stages a
// block had one tile (32 KB) in flight most of the time and two only briefly, each refill
// waiting for its page-table read, behind a block barrier that made every warp wait for the
// slowest. Now: 2 warps per block, each with a private 4-stage ring of 16-key tiles (8.5 KB per
// stage and warp at head_dim 128): the same 74 KB per block and 3 blocks/SM, but 3 of 4 stages
// in flight per warp instead of 1-2 of 2 per block, ~150 KB per SM instead of ~100 KB, and no
// block barrier in the loop. Measured since (H200, bench_cuda_ops, Llama-3-8B shape): f16 29 us
// at 16k and ~44 us at 32k (the difference streams at ~3.9 TB/s; ~10 us of fixed cost per call);
// q8_0 was slower than f16 (32.7 us at 16k) until its decode tiles were converted in registers
// (26.4 us; see "q8_0 caches" above). The split planner is
// unchanged (a wave of blocks, splits of whole 32-position tiles, >= 2 tiles each): Llama-3-8B at
// 16k on 132 SMs: 8 KV heads x 47 splits of 352 positions (376 blocks <= 396 slots); at 4k: 43
// splits of 96 (latency-bound: 3 tiles per block); at 32k: 49 splits of 672. The merge reads
// 32 heads x splits x 130 floats (~0.8 MB at 16k, ~1 % of the K/V bytes) in a second kernel that
// PDL overlaps with the tail; what remains is its 2-3 dependent memory round trips (~1-2 us).
//
// Prefill: unchanged for f16 (2 stages, 4 warps, 190-240 registers, 2 blocks/SM). The likely
// limits at 63-171 TFLOP/s: mma.sync (not wgmma) issue from 8 warps per SM, ldmatrix of K and V
// re-done by each of the 4 warps (4x the shared-memory reads of one warpgroup-wide operand), the
// block barrier per tile, and at 512 tokens too few blocks (8 tiles x 8 heads = 64 < 132 SMs).
// Going further means wgmma with TMA-fed swizzled tiles (sm_90 only), not a tweak here.
//
// PDL: the kernels call pdl_wait() before reading anything (the tile list comes from the planner,
// q and the newest K/V rows from the kernels before) and let the next kernel start right after.
#include "backend/cuda/ops_attention_mma.h"

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "backend/cuda/async_copy.cuh"
#include "backend/cuda/attention_mma_tile.cuh"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/matvec_stream.cuh"
#include "backend/cuda/mma_f16.cuh"
#include "backend/cuda/ops_common.cuh"
#include "backend/cuda/ops_kv.cuh"

namespace llcuda::cuda {

namespace {

// When the tensor-core path runs (attention_uses_mma). A pure decode step at a short context is a
// chain of latencies the CUDA-core kernel is tuned for (docs/cuda-kernels.md); a batch of a few
// tokens fills little of a 16-row tile.
constexpr uint32_t kMmaMinTokens = 16;      // batches that are not pure decode
constexpr uint32_t kMmaDecodeMinKv = 1024;  // pure decode of few sequences: max_kv_len at least this
constexpr uint32_t kMmaDecodeMinSeqs = 4;   // pure decode of this many sequences: any context
constexpr uint32_t kMaxGroup = 8;
constexpr uint32_t kMaxSplits = 128;        // attention_merge_splits' limit
constexpr uint32_t kMinSplitTiles = 2;      // a split covers at least this many K/V tiles
constexpr uint32_t kMaxTailSplits = 4;      // splits of a decode grid that already fills a wave
constexpr int kPlanThreads = 1024;
constexpr float kLog2e = 1.4426950408889634f;

// Kernel configurations: <head_dim, decode config, q8_0 cache>.
//   prefill: 4 warps x 16 query rows; every warp reads all BN keys of a tile, so the K/V stages are
//            shared by the block (block barriers).
//   decode:  2 warps x one 16-row tile; warp wk owns keys [16 wk, 16 wk + 16) of every 32-position
//            tile and loads, converts and reads only those rows, so its pipeline needs no block
//            barrier (warp-private stages, __syncwarp only) and runs NS - 1 tiles ahead.
// Stages (NS): f16 tiles are copied straight into NS f16 stages. q8_0 tiles are copied (int8 quants
// and f16 scales, half the bytes) into NS raw stages and converted, one tile at a time, into a
// single f16 stage the products read; NS is as deep as the same shared memory allows.
template <int D, bool kDecode, bool kQ8>
struct MmaCfg {
    // q8_0 decode converts K and V in registers, straight from the raw stages (no f16 stage).
    static constexpr bool kRegQ8 = kDecode && kQ8;
    static constexpr int kD = D;
    static constexpr int WR = kDecode ? 1 : 4;  // warps along the query rows (16 rows each)
    static constexpr int WK = kDecode ? 2 : 1;  // warps along the keys of one K/V tile
    static constexpr int kWarps = WR * WK, kThreads = kWarps * 32;
    static constexpr int BM = 16 * WR;                           // query rows per block
    static constexpr int BN = (kDecode || D == 256) ? 32 : 64;   // positions per K/V tile
    static constexpr int KW = BN / WK;                           // keys per warp per tile
    static constexpr int LD = D + 8;                             // shared row stride (halves)
    static constexpr bool kQInRegs = D <= 128;
    static constexpr bool kWarpPrivate = kDecode;                // each warp loads the rows it reads
    // The threads that load (and convert) one tile's rows together, and how many rows they take.
    static constexpr int kLoadThreads = kWarpPrivate ? 32 : kThreads;
    static constexpr int kLoadRows = kWarpPrivate ? KW : BN;
    static constexpr int NS = kDecode ? (kQ8 ? (kRegQ8 ? (D == 256 ? 3 : D == 128 ? 4 : 6) : (D == 256 ? 4 : 6))
                                            : (D == 256 ? 3 : 4))
                                      : (kQ8 && D != 256 ? 3 : 2);
    // Residency the register allocation must allow; shared memory gives the same (sm_90, 228 KB
    // per SM): decode 5 / 3 / 2 blocks at head_dim 64 / 128 / 256 (q8_0 converted in registers,
    // no f16 stage: 6 / 5 / 3), prefill 2.
    static constexpr int kMinBlocks =
        kDecode ? (kRegQ8 ? (D == 64 ? 6 : D == 128 ? 5 : 3) : (D == 64 ? 5 : D == 128 ? 3 : 2)) : 2;
    // Raw q8_0 quant rows: D bytes, or D + 16 when ldmatrix reads them (eight 16-byte rows in
    // distinct banks).
    static constexpr int RS = kRegQ8 ? D + 16 : D;
    static constexpr uint32_t kQBytes = BM * LD * 2;     // s_q (BM, LD) half
    static constexpr uint32_t kTileBytes = BN * LD * 2;  // one K or V f16 stage (BN, LD) half
    static constexpr int kF16Stages = kQ8 ? (kRegQ8 ? 0 : 1) : NS;
    static constexpr uint32_t kScaleRow = D / 32 * 2;    // q8_0 scale bytes of one row (head)
    // One raw q8_0 stage: K quants (BN, RS) int8, V quants (BN, RS), K scales (BN, D/32) f16, V scales.
    static constexpr uint32_t kRawStageBytes = kQ8 ? 2 * BN * (RS + kScaleRow) : 0;
    static constexpr uint32_t kSmemBytes = kQBytes + kF16Stages * 2 * kTileBytes + NS * kRawStageBytes;
    // Decode merge: per warp and lane D/2 accumulator floats and (mA, mB, lA, lB), over the stages.
    static constexpr uint32_t kMergeBytes = WK > 1 ? uint32_t(WK * WR * 32 * (D / 2 + 4) * 4) : 0;
    static constexpr uint32_t kTileTokensMax = 64;       // s_pos / s_seq size; >= BM / 1
    static_assert(KW % 16 == 0, "P·V needs whole k16 steps per warp");
    static_assert(kMergeBytes <= kSmemBytes - kQBytes, "merge buffer must fit in the K/V stages");
    static_assert(kLoadThreads % (D / 8) == 0 && kLoadRows % (kLoadThreads / (D / 8)) == 0, "f16 loader mapping");
    static_assert(kLoadThreads % (D / 16) == 0 && kLoadRows % (kLoadThreads / (D / 16)) == 0, "q8_0 loader mapping");
    static_assert(2 * kLoadRows <= kLoadThreads, "q8_0 scale loads: one thread per row of K and of V");
    static_assert(kLoadRows * (D / 8) % kLoadThreads == 0, "q8_0 conversion mapping");
    static_assert(BM <= int(kTileTokensMax), "token arrays");
    static_assert(NS >= 2, "at least double buffering");
};

struct MmaArgs {
    const float* q;
    uint32_t q_stride;
    uint32_t n_tokens, n_head, n_head_kv, group, tokens_per_tile;
    float qscale;     // scale * log2(e)
    uint32_t window;  // 0: whole context
    const int32_t* token_pos;
    const int32_t* token_seq;
    const int32_t* page_tables;
    uint32_t table_stride, block_size;
    const uint8_t* k_pool;
    const uint8_t* v_pool;
    uint32_t slot_bytes;           // one slot of K or V (ops_kv.cuh; the same for both: dk == dv)
    uint32_t scales_at;            // q8_0: byte offset of the scales in a slot (n_head_kv * D)
    uint32_t n_tiles;              // fixed tiling: tile i = tokens [i * tokens_per_tile, +tokens_per_tile)
    const int32_t* tile_start;     // planned tiling (or nullptr): first token of each tile (one run each)
    const int32_t* tile_count;     // number of planned tiles
    uint32_t n_splits, split_len;  // split s: positions [s * split_len, (s+1) * split_len), the last open
    float* out;                    // (n_tokens, n_head, D)
    float* part_acc;               // (n_tokens, n_head, n_splits, D) when n_splits > 1
    float* part_ml;                // (n_tokens, n_head, n_splits, 2)
};

// ---- the kernel -------------------------------------------------------------------------------

// Grid: x = tile slot * n_head_kv + KV head (blocks loop over the tiles, slot, slot + slots, ...),
// y = split. Fragment notation as in mma_f16.cuh: lane = 4g + t; this thread's accumulator rows are
// A = 16 wr + g and B = A + 8 of the block's rows.
template <int D, bool kDecode, bool kQ8>
__global__ void __launch_bounds__(MmaCfg<D, kDecode, kQ8>::kThreads, MmaCfg<D, kDecode, kQ8>::kMinBlocks)
    attention_mma_kernel(const MmaArgs a) {
    using C = MmaCfg<D, kDecode, kQ8>;
    using attn_tile::pack_half2;
    constexpr bool kRegQ8 = C::kRegQ8;
    constexpr int BN = C::BN, KW = C::KW, LD = C::LD, BM = C::BM, NS = C::NS;
    constexpr int GT = C::kLoadThreads, GR = C::kLoadRows;
    extern __shared__ __align__(16) uint8_t smem[];
    __half* const s_q = reinterpret_cast<__half*>(smem);                // (BM, LD)
    __half* const s_k = reinterpret_cast<__half*>(smem + C::kQBytes);   // (kF16Stages, BN, LD)
    __half* const s_v = s_k + C::kF16Stages * BN * LD;                  // (kF16Stages, BN, LD)
    uint8_t* const s_raw = smem + C::kQBytes + C::kF16Stages * 2 * C::kTileBytes;  // (NS, kRawStageBytes)
    __shared__ int32_t s_pos[C::kTileTokensMax], s_seq[C::kTileTokensMax];

    const uint32_t tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
    const uint32_t wr = warp % C::WR, wk = warp / C::WR;
    const uint32_t g = lane / 4, t4 = lane % 4;
    const uint32_t kvh = blockIdx.x % a.n_head_kv;
    const uint32_t slot0 = blockIdx.x / a.n_head_kv, n_slots = gridDim.x / a.n_head_kv;
    const uint32_t split = blockIdx.y;
    const uint32_t s_begin = split * a.split_len;
    const uint32_t s_end = split + 1 == a.n_splits ? UINT_MAX : s_begin + a.split_len;
    const uint32_t span = a.window > 0 ? a.window : UINT_MAX;
    const uint32_t group = a.group, bs = a.block_size;

    pdl_wait();  // the planner's tile list, q and this step's K/V rows come from earlier kernels
    pdl_launch_dependents();

    const uint32_t n_tiles = a.tile_start ? uint32_t(*a.tile_count) : a.n_tiles;
    for (uint32_t ti = slot0; ti < n_tiles; ti += n_slots) {
        const uint32_t tile = n_tiles - 1 - ti;  // later tokens (longer causal contexts) start first
        const uint32_t t_begin = a.tile_start ? uint32_t(a.tile_start[tile]) : tile * a.tokens_per_tile;
        const uint32_t n_tile_tok = min(a.tokens_per_tile, a.n_tokens - t_begin);
        if (tid < n_tile_tok) {
            s_pos[tid] = a.token_pos[t_begin + tid];
            s_seq[tid] = a.token_seq[t_begin + tid];
        }
        __syncthreads();

        // Runs of one sequence within the tile (a planned tile is one run: the rest belongs to others).
        for (uint32_t r0 = 0; r0 < n_tile_tok;) {
            const int32_t seq = s_seq[r0];
            uint32_t r1 = r0 + 1;
            while (r1 < n_tile_tok && s_seq[r1] == seq) ++r1;
            const uint32_t n_rows = (r1 - r0) * group;  // <= BM: tokens_per_tile * group <= BM

            // Allowed keys of this thread's rows A and B: lo <= j <= hi (hi = -1: a padding row).
            int32_t hi_a = -1, lo_a = 0, hi_b = -1, lo_b = 0;
            {
                const uint32_t ra = wr * 16 + g, rb = ra + 8;
                if (ra < n_rows) {
                    const uint32_t pos = uint32_t(s_pos[r0 + ra / group]);
                    hi_a = int32_t(pos);
                    lo_a = int32_t(pos + 1 > span ? pos + 1 - span : 0u);
                }
                if (rb < n_rows) {
                    const uint32_t pos = uint32_t(s_pos[r0 + rb / group]);
                    hi_b = int32_t(pos);
                    lo_b = int32_t(pos + 1 > span ? pos + 1 - span : 0u);
                }
            }
            // The union of the run's ranges (contiguous for consecutive positions), cut to the split.
            uint32_t jlo = UINT_MAX, jhi = 0;
            for (uint32_t i = r0; i < r1; ++i) {
                const uint32_t pos = uint32_t(s_pos[i]);
                jlo = min(jlo, pos + 1 > span ? pos + 1 - span : 0u);
                jhi = max(jhi, pos + 1);
            }
            const uint32_t jbeg = max(jlo, s_begin), jend = min(jhi, s_end);
            const uint32_t n_kv_tiles = jend > jbeg ? (jend - jbeg + BN - 1) / BN : 0;
            const int32_t* table = a.page_tables + uint64_t(seq) * a.table_stride;

            // The rows this thread loads and converts: the block's whole tile (prefill) or its warp's
            // KW rows (decode, warp-private stages); gt numbers the thread among the GT that share them.
            const uint32_t row0 = C::kWarpPrivate ? wk * KW : 0u;
            const uint32_t gt = C::kWarpPrivate ? lane : tid;

            // Slot of position j (< jend: its page-table entry exists).
            auto slot_of = [&](uint32_t j) {
                const uint32_t blk = j / bs;
                return uint64_t(uint32_t(table[blk])) * bs + (j - blk * bs);
            };
            // K and V rows [row0, row0 + GR) of the tile at positions [base, base + BN) into stage
            // `stage` (f16: its f16 stage; q8_0: its raw stage); positions >= jend are zero-filled and
            // their page-table entries never read.
            auto load_tile = [&](int stage, uint32_t base) {
                if constexpr (!kQ8) {
                    constexpr int CPR = D / 8, RPP = GT / CPR;  // 16-byte parts per row, rows per pass
                    const uint32_t c = gt % CPR;
                    __half* sk = s_k + stage * BN * LD + c * 8;
                    __half* sv = s_v + stage * BN * LD + c * 8;
#pragma unroll
                    for (int i = 0; i < GR / RPP; ++i) {
                        const uint32_t r = row0 + gt / CPR + uint32_t(i * RPP);
                        const uint32_t j = base + r;
                        const bool ok = j < jend;
                        const uint8_t* kp = a.k_pool;
                        const uint8_t* vp = a.v_pool;
                        if (ok) {
                            const uint64_t off = slot_of(j) * a.slot_bytes + (kvh * D + c * 8) * 2;
                            kp += off;
                            vp += off;
                        }
                        cp_async16(sk + r * LD, kp, ok);
                        cp_async16(sv + r * LD, vp, ok);
                    }
                } else {
                    // Quants: 16-byte parts (D / 16 per row); scales: one copy of D / 16 bytes per row
                    // of K (threads 0 .. GR-1) and of V (GR .. 2 GR - 1).
                    constexpr int QPR = D / 16, RPQ = GT / QPR;
                    uint8_t* raw = s_raw + stage * C::kRawStageBytes;
                    const uint32_t c = gt % QPR;
#pragma unroll
                    for (int i = 0; i < GR / RPQ; ++i) {
                        const uint32_t r = row0 + gt / QPR + uint32_t(i * RPQ);
                        const uint32_t j = base + r;
                        const bool ok = j < jend;
                        const uint8_t* kp = a.k_pool;
                        const uint8_t* vp = a.v_pool;
                        if (ok) {
                            const uint64_t off = slot_of(j) * a.slot_bytes + kvh * D + c * 16;
                            kp += off;
                            vp += off;
                        }
                        cp_async16(raw + r * C::RS + c * 16, kp, ok);
                        cp_async16(raw + (BN + r) * C::RS + c * 16, vp, ok);
                    }
                    if (gt < uint32_t(2 * GR)) {
                        const uint32_t is_v = gt / GR, r = row0 + gt % GR;
                        const uint32_t j = base + r;
                        const bool ok = j < jend;
                        const uint8_t* p = is_v ? a.v_pool : a.k_pool;
                        if (ok) p += slot_of(j) * a.slot_bytes + a.scales_at + kvh * C::kScaleRow;
                        cp_async_small<C::kScaleRow>(raw + 2 * BN * C::RS + (is_v * BN + r) * C::kScaleRow, p, ok);
                    }
                }
            };
            // q8_0: raw stage `stage`, rows [row0, row0 + GR), -> the f16 stage 0 (8 elements per step).
            auto convert_tile = [&](int stage) {
                if constexpr (kQ8 && !kRegQ8) {
                    constexpr int CPR = D / 8;
                    const uint8_t* raw = s_raw + stage * C::kRawStageBytes;
#pragma unroll
                    for (int kv = 0; kv < 2; ++kv) {
                        const uint8_t* quants = raw + kv * BN * C::RS;
                        const __half* scales =
                            reinterpret_cast<const __half*>(raw + 2 * BN * C::RS + kv * BN * C::kScaleRow);
                        __half* dst = kv ? s_v : s_k;
#pragma unroll 4
                        for (int i = 0; i < GR * CPR / GT; ++i) {
                            const uint32_t idx = gt + uint32_t(i * GT);
                            const uint32_t r = row0 + idx / CPR, c = idx % CPR;
                            const uint2 qv = *reinterpret_cast<const uint2*>(quants + r * C::RS + c * 8);
                            const __half sc = scales[r * (D / 32) + c / 4];
                            *reinterpret_cast<uint4*>(dst + r * LD + c * 8) = attn_tile::dequant_q8x8(qv, sc);
                        }
                    }
                } else {
                    (void)stage;
                }
            };
            // Orders the stages' writes (cp.async, conversion) and reads among the threads sharing them.
            auto stage_sync = [] {
                if constexpr (C::kWarpPrivate) {
                    __syncwarp();
                } else {
                    __syncthreads();
                }
            };

            // q rows (f32, global) -> s_q (f16, times scale * log2 e); padding rows are zeros.
            for (uint32_t idx = tid; idx < uint32_t(BM * (D / 4)); idx += C::kThreads) {
                const uint32_t r = idx / (D / 4), c = idx % (D / 4);
                uint2 h = make_uint2(0, 0);
                if (r < n_rows) {
                    const uint32_t tok = t_begin + r0 + r / group, head = kvh * group + r % group;
                    const float4 x =
                        *reinterpret_cast<const float4*>(a.q + uint64_t(tok) * a.q_stride + uint64_t(head) * D + 4 * c);
                    h.x = pack_half2(x.x * a.qscale, x.y * a.qscale);
                    h.y = pack_half2(x.z * a.qscale, x.w * a.qscale);
                }
                *reinterpret_cast<uint2*>(s_q + r * LD + 4 * c) = h;
            }
            // Tiles 0 .. NS-2 in flight (one commit group per tile, empty past the last).
#pragma unroll
            for (int st = 0; st < NS - 1; ++st) {
                if (uint32_t(st) < n_kv_tiles) load_tile(st, jbeg + uint32_t(st) * BN);
                cp_async_commit();
            }
            __syncthreads();  // s_q

            // Q fragments of this warp's 16 rows, k-step kk (16 dims): ldmatrix x4 (rows 0-7 / 8-15
            // x dims 0-7 / 8-15 -> a[0..3]).
            const __half* q_lane = s_q + (wr * 16 + (lane & 7) + ((lane >> 3) & 1) * 8) * LD + (lane >> 4) * 8;
            // Q's A fragment for k-step kk from s_q, in the K operand's order (the q8_0 decode
            // configuration permutes each span's dims: attention_mma_tile.cuh), and the fragments as
            // the products take them: kept in registers at head_dim <= 128, else re-read per tile.
            auto q_frag_smem = [&](int kk, uint32_t (&f)[4]) {
                if constexpr (kRegQ8) {
                    attn_tile::q_frag_q8_order<C>(s_q, wr, lane, kk, f);
                } else {
                    ldsm_x4(f, q_lane + kk * 16);
                }
            };
            uint32_t qf[C::kQInRegs ? D / 16 : 1][4];
            if constexpr (C::kQInRegs) {
#pragma unroll
                for (int kk = 0; kk < D / 16; ++kk) q_frag_smem(kk, qf[kk]);
            }
            auto q_frag = [&](int kk, uint32_t (&f)[4]) {
                if constexpr (C::kQInRegs) {
                    f[0] = qf[kk][0];
                    f[1] = qf[kk][1];
                    f[2] = qf[kk][2];
                    f[3] = qf[kk][3];
                } else {
                    q_frag_smem(kk, f);
                }
            };

            float o[D / 8][4];  // 16 x D accumulator: o[n-tile][c-fragment]
#pragma unroll
            for (int dt = 0; dt < D / 8; ++dt) o[dt][0] = o[dt][1] = o[dt][2] = o[dt][3] = 0.0f;
            float m_a = -INFINITY, m_b = -INFINITY, l_a = 0.0f, l_b = 0.0f;  // l: this thread's columns only

            for (uint32_t it = 0; it < n_kv_tiles; ++it) {
                // Tile it + NS - 1 goes into the stage tile it - 1 used (its readers passed the
                // trailing sync of the last iteration), then tile `it` is waited for.
                const uint32_t next = it + uint32_t(NS - 1);
                if (next < n_kv_tiles) load_tile(int(next % NS), jbeg + next * BN);
                cp_async_commit();
                cp_async_wait<NS - 1>();  // tile `it` has landed (this thread's parts)
                stage_sync();             // ... and those of the threads sharing the stage
                int stage = int(it % NS);
                if constexpr (kQ8 && !kRegQ8) {
                    convert_tile(stage);  // the f16 stage's last readers passed the trailing sync
                    stage_sync();
                    stage = 0;
                }

                const uint32_t kbase = jbeg + it * BN + wk * KW;  // position of this warp's first key

                // S (16 x KW) = Q K^T.
                float s[KW / 8][4];
#pragma unroll
                for (int nt = 0; nt < KW / 8; ++nt) s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.0f;
                if constexpr (kRegQ8) {
                    attn_tile::qk_q8_raw<C>(s_raw + stage * C::kRawStageBytes, wk, lane, q_frag, s);
                } else {
                    attn_tile::qk_f16_stage<C>(s_k + stage * BN * LD, wk, lane, q_frag, s);
                }


                // Mask, then the online softmax update (base 2). Column of s[nt][e]: 8 nt + 2 t + e % 2.
                float mx_a = -INFINITY, mx_b = -INFINITY;
#pragma unroll
                for (int nt = 0; nt < KW / 8; ++nt) {
#pragma unroll
                    for (int e = 0; e < 2; ++e) {
                        const uint32_t j = kbase + uint32_t(nt * 8) + 2 * t4 + uint32_t(e);
                        const bool in = j < jend;
                        const int32_t js = int32_t(j);
                        if (!(in && js <= hi_a && js >= lo_a)) s[nt][e] = -INFINITY;
                        if (!(in && js <= hi_b && js >= lo_b)) s[nt][2 + e] = -INFINITY;
                        mx_a = fmaxf(mx_a, s[nt][e]);
                        mx_b = fmaxf(mx_b, s[nt][2 + e]);
                    }
                }
                // The four lanes of a row (same g) hold its columns.
                mx_a = fmaxf(mx_a, __shfl_xor_sync(ops::kFullMask, mx_a, 1));
                mx_a = fmaxf(mx_a, __shfl_xor_sync(ops::kFullMask, mx_a, 2));
                mx_b = fmaxf(mx_b, __shfl_xor_sync(ops::kFullMask, mx_b, 1));
                mx_b = fmaxf(mx_b, __shfl_xor_sync(ops::kFullMask, mx_b, 2));
                const float new_a = fmaxf(m_a, mx_a), new_b = fmaxf(m_b, mx_b);
                // Exponent offsets: 0 while a row has seen no allowed key (then every s is -inf -> p = 0).
                const float use_a = new_a == -INFINITY ? 0.0f : new_a;
                const float use_b = new_b == -INFINITY ? 0.0f : new_b;
                const float alpha_a = exp2f(m_a - use_a), alpha_b = exp2f(m_b - use_b);  // 0 from m = -inf
                float sum_a = 0.0f, sum_b = 0.0f;
#pragma unroll
                for (int nt = 0; nt < KW / 8; ++nt) {
#pragma unroll
                    for (int e = 0; e < 2; ++e) {
                        s[nt][e] = exp2f(s[nt][e] - use_a);
                        s[nt][2 + e] = exp2f(s[nt][2 + e] - use_b);
                        sum_a += s[nt][e];
                        sum_b += s[nt][2 + e];
                    }
                }
                l_a = l_a * alpha_a + sum_a;
                l_b = l_b * alpha_b + sum_b;
                m_a = new_a;
                m_b = new_b;
#pragma unroll
                for (int dt = 0; dt < D / 8; ++dt) {
                    o[dt][0] *= alpha_a;
                    o[dt][1] *= alpha_a;
                    o[dt][2] *= alpha_b;
                    o[dt][3] *= alpha_b;
                }

                // O += P V.
                if constexpr (kRegQ8) {
                    attn_tile::pv_q8_raw<C>(s_raw + stage * C::kRawStageBytes, wk, lane, s, o);
                } else {
                    attn_tile::pv_f16_stage<C>(s_v + stage * BN * LD, wk, lane, s, o);
                }
                stage_sync();  // every reader is done with this stage before it is refilled (or reconverted)
            }

            // Decode config: the key-split warps merge into warp wk == 0 through the (idle) K/V stages.
            if constexpr (C::WK > 1) {
                cp_async_wait<0>();
                __syncthreads();
                constexpr int NO = D / 2;  // accumulator floats per lane
                float* s_mo = reinterpret_cast<float*>(s_k);           // (WK * WR, NO, 32)
                float* s_ml = s_mo + C::WK * C::WR * NO * 32;          // (WK * WR, 4, 32)
                const uint32_t ws = wk * C::WR + wr;
                if (wk > 0) {
#pragma unroll
                    for (int dt = 0; dt < D / 8; ++dt) {
#pragma unroll
                        for (int e = 0; e < 4; ++e) s_mo[(ws * NO + dt * 4 + e) * 32 + lane] = o[dt][e];
                    }
                    s_ml[(ws * 4 + 0) * 32 + lane] = m_a;
                    s_ml[(ws * 4 + 1) * 32 + lane] = m_b;
                    s_ml[(ws * 4 + 2) * 32 + lane] = l_a;
                    s_ml[(ws * 4 + 3) * 32 + lane] = l_b;
                }
                __syncthreads();
                if (wk == 0) {
#pragma unroll 1
                    for (int w = 1; w < C::WK; ++w) {
                        const uint32_t wo = uint32_t(w) * C::WR + wr;
                        const float mo_a = s_ml[(wo * 4 + 0) * 32 + lane], mo_b = s_ml[(wo * 4 + 1) * 32 + lane];
                        const float lo_sum_a = s_ml[(wo * 4 + 2) * 32 + lane], lo_sum_b = s_ml[(wo * 4 + 3) * 32 + lane];
                        const float na = fmaxf(m_a, mo_a), nb = fmaxf(m_b, mo_b);
                        const float fa = m_a == -INFINITY ? 0.0f : exp2f(m_a - na);
                        const float ga = mo_a == -INFINITY ? 0.0f : exp2f(mo_a - na);
                        const float fb = m_b == -INFINITY ? 0.0f : exp2f(m_b - nb);
                        const float gb = mo_b == -INFINITY ? 0.0f : exp2f(mo_b - nb);
                        l_a = l_a * fa + lo_sum_a * ga;
                        l_b = l_b * fb + lo_sum_b * gb;
                        m_a = na;
                        m_b = nb;
#pragma unroll
                        for (int dt = 0; dt < D / 8; ++dt) {
                            o[dt][0] = o[dt][0] * fa + s_mo[(wo * NO + dt * 4 + 0) * 32 + lane] * ga;
                            o[dt][1] = o[dt][1] * fa + s_mo[(wo * NO + dt * 4 + 1) * 32 + lane] * ga;
                            o[dt][2] = o[dt][2] * fb + s_mo[(wo * NO + dt * 4 + 2) * 32 + lane] * gb;
                            o[dt][3] = o[dt][3] * fb + s_mo[(wo * NO + dt * 4 + 3) * 32 + lane] * gb;
                        }
                    }
                }
            }

            // Output: the row's sum over its four lanes, then the normalized row (one split) or the
            // unnormalized partial with (max, sum) for attention_merge_splits.
            if (wk == 0) {
                l_a += __shfl_xor_sync(ops::kFullMask, l_a, 1);
                l_a += __shfl_xor_sync(ops::kFullMask, l_a, 2);
                l_b += __shfl_xor_sync(ops::kFullMask, l_b, 1);
                l_b += __shfl_xor_sync(ops::kFullMask, l_b, 2);
#pragma unroll
                for (int hb = 0; hb < 2; ++hb) {
                    const uint32_t r = wr * 16 + g + uint32_t(hb) * 8;
                    if (r >= n_rows) continue;
                    const uint32_t tok = t_begin + r0 + r / group, head = kvh * group + r % group;
                    const uint64_t row = uint64_t(tok) * a.n_head + head;
                    const float l = hb ? l_b : l_a, m = hb ? m_b : m_a;
                    const bool whole = a.n_splits == 1;
                    const float mul = !whole ? 1.0f : l > 0.0f ? 1.0f / l : 0.0f;
                    const uint64_t part = row * a.n_splits + split;
                    float* dst = whole ? a.out + row * D : a.part_acc + part * D;
                    if constexpr (kRegQ8) {
                        // n-tiles 2 sp (even dims) and 2 sp + 1 (odd): dims 16 sp + 4t .. 4t + 3.
#pragma unroll
                        for (int sp = 0; sp < D / 16; ++sp) {
                            *reinterpret_cast<float4*>(dst + sp * 16 + 4 * t4) =
                                make_float4(o[2 * sp][2 * hb] * mul, o[2 * sp + 1][2 * hb] * mul,
                                            o[2 * sp][2 * hb + 1] * mul, o[2 * sp + 1][2 * hb + 1] * mul);
                        }
                    } else {
#pragma unroll
                        for (int dt = 0; dt < D / 8; ++dt) {
                            *reinterpret_cast<float2*>(dst + dt * 8 + 2 * t4) =
                                make_float2(o[dt][2 * hb] * mul, o[dt][2 * hb + 1] * mul);
                        }
                    }
                    if (!whole && t4 == 0) {
                        a.part_ml[2 * part] = m;
                        a.part_ml[2 * part + 1] = l;
                    }
                }
            }
            __syncthreads();  // s_q, the K/V stages (merge) and s_pos are reused next
            r0 = r1;
            if (a.tile_start) break;
        }
    }
}

// Cuts the runs of equal token_seq into tiles of at most `tr` tokens: tile_start (up to n) gets
// the first token of each tile in token order, *tile_count their number. One block; thread i
// scans tokens [i * per, (i + 1) * per): (1) the last run start in its chunk, max-scanned over the
// threads so each knows the run open where its chunk begins; (2) its tile starts (tokens whose
// offset in their run is a multiple of tr), sum-scanned for its write offset; (3) the writes.
__global__ void __launch_bounds__(kPlanThreads)
    attention_plan_tiles(const int32_t* token_seq, uint32_t n, uint32_t tr, int32_t* tile_start, int32_t* tile_count) {
    __shared__ int32_t s[kPlanThreads];
    pdl_wait();  // the scratch may still be read by the previous attention's kernels
    pdl_launch_dependents();
    const uint32_t tid = threadIdx.x, per = (n + kPlanThreads - 1) / kPlanThreads;
    const uint32_t c0 = min(tid * per, n), c1 = min(c0 + per, n);
    auto is_start = [&](uint32_t t) { return t == 0 || token_seq[t] != token_seq[t - 1]; };

    int32_t last = -1;
    for (uint32_t t = c0; t < c1; ++t) {
        if (is_start(t)) last = int32_t(t);
    }
    s[tid] = last;
    __syncthreads();
    for (uint32_t off = 1; off < kPlanThreads; off <<= 1) {
        const int32_t v = tid >= off ? s[tid - off] : -1;
        __syncthreads();
        s[tid] = max(s[tid], v);
        __syncthreads();
    }
    const uint32_t open = tid > 0 && s[tid - 1] >= 0 ? uint32_t(s[tid - 1]) : 0;  // token 0 starts a run
    __syncthreads();

    auto count_or_write = [&](int32_t* dst) {
        uint32_t rs = open, k = 0;
        for (uint32_t t = c0; t < c1; ++t) {
            if (is_start(t)) rs = t;
            if ((t - rs) % tr == 0) {
                if (dst) dst[k] = int32_t(t);
                ++k;
            }
        }
        return k;
    };
    const uint32_t mine = count_or_write(nullptr);
    s[tid] = int32_t(mine);
    __syncthreads();
    for (uint32_t off = 1; off < kPlanThreads; off <<= 1) {
        const int32_t v = tid >= off ? s[tid - off] : 0;
        __syncthreads();
        s[tid] += v;
        __syncthreads();
    }
    const uint32_t first = uint32_t(s[tid]) - mine;
    if (tid == kPlanThreads - 1) *tile_count = s[tid];
    count_or_write(tile_start + first);
}

// ---- host side --------------------------------------------------------------------------------

int device_index() {
    int dev = 0;
    CUDA_CHECK(cudaGetDevice(&dev));
    return dev;
}

int sm_count_cached() {
    static std::atomic<int> cache[64] = {};
    const int dev = device_index();
    const bool cached = dev >= 0 && dev < 64;
    int n = cached ? cache[dev].load(std::memory_order_relaxed) : 0;
    if (n > 0) return n;
    CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev));
    n = n > 0 ? n : 1;
    if (cached) cache[dev].store(n, std::memory_order_relaxed);
    return n;
}

// Blocks per SM of one instantiation on the current device, after granting its dynamic shared
// memory; 0 when it cannot run there (too little shared memory: attention() then falls back).
// Cached per device: the first query happens at set-up (attention_scratch_bytes).
template <int D, bool kDecode, bool kQ8>
int blocks_per_sm() {
    using C = MmaCfg<D, kDecode, kQ8>;
    static std::atomic<int> cache[64] = {};  // 0: not asked yet, -1: cannot run, else blocks
    const int dev = device_index();
    const bool cached = dev >= 0 && dev < 64;
    int n = cached ? cache[dev].load(std::memory_order_relaxed) : 0;
    if (n != 0) return n > 0 ? n : 0;
    n = -1;
    int optin = 0;
    if (cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev) == cudaSuccess &&
        uint32_t(optin) >= C::kSmemBytes + 2 * C::kTileTokensMax * sizeof(int32_t) &&
        cudaFuncSetAttribute(attention_mma_kernel<D, kDecode, kQ8>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             int(C::kSmemBytes)) == cudaSuccess) {
        int b = 0;
        if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&b, attention_mma_kernel<D, kDecode, kQ8>, C::kThreads,
                                                          C::kSmemBytes) == cudaSuccess &&
            b > 0) {
            n = b;
        }
    }
    (void)cudaGetLastError();  // a refused attribute is an answer here, not a sticky error
    if (cached) cache[dev].store(n, std::memory_order_relaxed);
    return n > 0 ? n : 0;
}

template <int D>
int blocks_per_sm(bool decode, bool q8) {
    return decode ? (q8 ? blocks_per_sm<D, true, true>() : blocks_per_sm<D, true, false>())
                  : (q8 ? blocks_per_sm<D, false, true>() : blocks_per_sm<D, false, false>());
}

int blocks_per_sm(uint32_t d, bool decode, KvType type) {
    const bool q8 = type == KvType::Q8_0;
    switch (d) {
        case 64: return blocks_per_sm<64>(decode, q8);
        case 128: return blocks_per_sm<128>(decode, q8);
        case 256: return blocks_per_sm<256>(decode, q8);
        default: return 0;
    }
}

// MmaCfg::BN of the configuration (the same for both cache types).
uint32_t tile_bn(uint32_t d, bool decode) { return decode || d == 256 ? 32 : 64; }

struct MmaPlan {
    bool decode = false;           // decode config: one token per tile, key-split warps
    bool planned = false;          // tiles from the planner kernel (else fixed)
    uint32_t tokens_per_tile = 1;
    uint32_t tile_slots = 0;       // grid x / n_head_kv: tiles (fixed) or an upper bound (planned)
    uint32_t n_splits = 1, split_len = 1;
    uint32_t splits_bound = 1;     // n_splits <= this, which never shrinks as max_kv_len grows (scratch)
};

// LLCUDA_ATTN_MMA_TAIL=N caps the tail splits below (1: none), for A/B runs; read once.
uint32_t mma_tail_splits() {
    static const uint32_t n = [] {
        const char* v = std::getenv("LLCUDA_ATTN_MMA_TAIL");
        const uint32_t x = v && *v ? uint32_t(std::strtoul(v, nullptr, 10)) : 0u;
        return x > 0 ? std::min(x, kMaxSplits) : kMaxTailSplits;
    }();
    return n;
}

// A pure function of the shapes, the SM count and the residency, so that
// attention_mma_scratch_bytes can bound what attention_mma will use.
MmaPlan make_mma_plan(const AttentionParams& p, uint32_t n_tokens, uint32_t n_seqs, uint32_t max_kv_len, int n_sm,
                      int per_sm) {
    MmaPlan plan;
    const uint32_t group = p.n_head / p.n_head_kv, d = p.head_dim_k;
    plan.decode = n_seqs == n_tokens;  // every token is its own sequence (n_seqs known)
    if (plan.decode) {
        plan.tokens_per_tile = 1;
        plan.tile_slots = n_tokens;
    } else {
        plan.tokens_per_tile = 64 / group;
        const uint32_t fixed = uint32_t(ops::ceil_div(n_tokens, plan.tokens_per_tile));
        plan.planned = n_seqs != 1;
        // Each run adds at most one partial tile; with n_seqs unknown, guess as many as full tiles
        // (more runs than that only make blocks loop twice).
        const uint32_t extra = n_seqs > 1 ? n_seqs - 1 : n_seqs == 0 ? fixed : 0;
        plan.tile_slots = std::min(n_tokens, fixed + extra);
    }
    const uint32_t bn = tile_bn(d, plan.decode);
    const uint32_t kv_len = std::max(max_kv_len, 1u);
    const uint64_t blocks = uint64_t(plan.tile_slots) * p.n_head_kv;
    const uint64_t wave = uint64_t(n_sm) * uint64_t(std::max(per_sm, 1));
    uint64_t splits = 1;
    if (2 * blocks <= wave) {
        splits = std::min<uint64_t>({wave / blocks, ops::ceil_div(kv_len, kMinSplitTiles * bn), kMaxSplits});
        splits = std::max<uint64_t>(splits, 1);
    } else if (plan.decode) {
        // A batched decode step that fills a wave but leaves its last one partly empty (64 sequences
        // x 8 KV heads = 512 blocks on 396 H200 slots: 65 % busy over two waves) splits the context
        // 2..4 ways when that fills the waves clearly better (3: 97 %), as the CUDA-core plan does.
        splits = ops::tail_split_count(blocks, wave,
                                       std::min<uint64_t>(mma_tail_splits(), ops::ceil_div(kv_len, kMinSplitTiles * bn)));
    }
    plan.splits_bound = uint32_t(splits);
    plan.split_len = uint32_t(ops::ceil_div(ops::ceil_div(kv_len, splits), bn) * bn);  // whole K/V tiles
    plan.n_splits = uint32_t(ops::ceil_div(kv_len, plan.split_len));
    return plan;
}

// Scratch layout: [tile_start (max_tokens int32), tile_count (int32)] rounded up to 256 bytes,
// then part_acc (n_tokens, n_head, n_splits, dv) floats, then part_ml (n_tokens, n_head, n_splits, 2).
uint64_t tiles_bytes(uint32_t n_tokens) { return (uint64_t(n_tokens + 1) * sizeof(int32_t) + 255) / 256 * 256; }

template <int D, bool kDecode, bool kQ8>
void launch_mma(const MmaArgs& a, dim3 grid, cudaStream_t stream) {
    using C = MmaCfg<D, kDecode, kQ8>;
    launch_stream_kernel(attention_mma_kernel<D, kDecode, kQ8>, grid, dim3(C::kThreads), C::kSmemBytes, stream,
                         "attention (tensor cores)", a);
}

template <int D>
void launch_dim(const MmaArgs& a, bool decode, bool q8, dim3 grid, cudaStream_t stream) {
    if (decode) {
        q8 ? launch_mma<D, true, true>(a, grid, stream) : launch_mma<D, true, false>(a, grid, stream);
    } else {
        q8 ? launch_mma<D, false, true>(a, grid, stream) : launch_mma<D, false, false>(a, grid, stream);
    }
}

}  // namespace

// A batched decode step (a server's, many sequences at a few hundred positions each) is bound by
// bytes, not by one block's chain of latencies: the tensor-core decode blocks stream K/V faster
// than the CUDA-core kernel's whole-group blocks. Measured on an H200 (Llama-3-8B shape, 16
// sequences at 512-639 positions): 32.6 -> 20.6 us with an f16 cache, 38.6 -> 19.4 us with q8_0;
// `llcuda bench --parallel` 4 / 16 / 64 (8B Q4_K_M): 809 -> 837, 2,791 -> 3,052, 5,400 -> 6,175
// generated tok/s. LLCUDA_ATTN_MMA_DECODE_SEQS overrides the sequence count (a large value
// restores the context rule alone), for A/B runs.
uint32_t mma_decode_min_seqs() {
    static const uint32_t n = [] {
        const char* v = std::getenv("LLCUDA_ATTN_MMA_DECODE_SEQS");
        const uint32_t n = v && *v ? uint32_t(std::strtoul(v, nullptr, 10)) : 0u;
        return n > 0 ? n : kMmaDecodeMinSeqs;  // unset, 0 or not a number: the default
    }();
    return n;
}

bool attention_mma_enabled() {
    static const bool enabled = [] {
        const char* v = std::getenv("LLCUDA_ATTN_MMA");
        return !(v && std::strcmp(v, "0") == 0);
    }();
    return enabled;
}

bool attention_mma_covers(const AttentionParams& p, KvType kv_type, uint32_t n_tokens, uint32_t n_seqs,
                          uint32_t max_kv_len) {
    if ((kv_type != KvType::F16 && kv_type != KvType::Q8_0) || n_tokens == 0) return false;
    if (p.n_head_kv == 0 || p.n_head % p.n_head_kv != 0 || p.n_head / p.n_head_kv > kMaxGroup) return false;
    const uint32_t d = p.head_dim_k;
    if (p.head_dim_v != d || (d != 64 && d != 128 && d != 256)) return false;
    if (n_seqs == n_tokens) return max_kv_len >= kMmaDecodeMinKv || n_seqs >= mma_decode_min_seqs();
    return n_tokens >= kMmaMinTokens;
}

bool attention_uses_mma(const AttentionParams& p, KvType kv_type, uint32_t n_tokens, uint32_t n_seqs,
                        uint32_t max_kv_len, const float* q, uint32_t q_stride) {
    if (!attention_mma_enabled() || !attention_mma_covers(p, kv_type, n_tokens, n_seqs, max_kv_len)) return false;
    if (!ops::aligned16(q) || q_stride % 4 != 0) return false;  // float4 loads of q rows
    return blocks_per_sm(p.head_dim_k, n_seqs == n_tokens, kv_type) > 0;
}

uint64_t attention_mma_scratch_bytes(const AttentionParams& p, uint32_t max_tokens, uint32_t max_kv_len) {
    if (p.n_head_kv == 0 || p.n_head % p.n_head_kv != 0 || p.n_head / p.n_head_kv > kMaxGroup) return 0;
    const uint32_t d = p.head_dim_k;
    if (p.head_dim_v != d || (d != 64 && d != 128 && d != 256) || max_tokens == 0) return 0;
    const int n_sm = sm_count_cached();
    // The cache type is not known here: the larger residency of f16 and q8_0 (more splits).
    int per_sm[2] = {0, 0};  // prefill, decode config
    for (const KvType t : {KvType::F16, KvType::Q8_0}) {
        per_sm[0] = std::max(per_sm[0], blocks_per_sm(d, false, t));
        per_sm[1] = std::max(per_sm[1], blocks_per_sm(d, true, t));
    }
    if (per_sm[0] == 0 && per_sm[1] == 0) return 0;
    uint64_t parts = 0;
    for (uint32_t n = 1; n <= max_tokens; ++n) {
        // n_seqs == 1 gives the fewest tiles (most splits) of the non-decode plans; n: pure decode.
        for (const uint32_t n_seqs : {0u, 1u, n}) {
            const bool decode = n_seqs == n;
            const MmaPlan plan = make_mma_plan(p, n, n_seqs, max_kv_len, n_sm, per_sm[decode ? 1 : 0]);
            if (plan.splits_bound > 1) {
                parts = std::max(parts, uint64_t(n) * p.n_head * plan.splits_bound * (d + 2) * sizeof(float));
            }
        }
    }
    return tiles_bytes(max_tokens) + parts;
}

void attention_mma(const float* q, uint32_t q_stride, const AttentionParams& p, const DeviceBatch& batch, KvLayer kv,
                   KvType kv_type, float* out, void* scratch, cudaStream_t stream) {
    const uint32_t n = batch.n_tokens, d = p.head_dim_k;
    const bool decode = batch.n_seqs == n, q8 = kv_type == KvType::Q8_0;
    const MmaPlan plan =
        make_mma_plan(p, n, batch.n_seqs, batch.max_kv_len, sm_count_cached(), blocks_per_sm(d, decode, kv_type));
    if ((plan.planned || plan.n_splits > 1) && scratch == nullptr) {
        ops::invalid("attention: no scratch buffer for the tile list and split-KV partials (attention_scratch_bytes)");
    }

    MmaArgs a{};
    a.q = q;
    a.q_stride = q_stride;
    a.n_tokens = n;
    a.n_head = p.n_head;
    a.n_head_kv = p.n_head_kv;
    a.group = p.n_head / p.n_head_kv;
    a.tokens_per_tile = plan.tokens_per_tile;
    a.qscale = p.scale * kLog2e;
    a.window = p.sliding_window;
    a.token_pos = batch.token_pos;
    a.token_seq = batch.token_seq;
    a.page_tables = batch.page_tables;
    a.table_stride = batch.table_stride;
    a.block_size = batch.block_size;
    a.k_pool = static_cast<const uint8_t*>(kv.k);
    a.v_pool = static_cast<const uint8_t*>(kv.v);
    a.slot_bytes = uint32_t(kv::slot_bytes(kv_type, p.n_head_kv, d));
    a.scales_at = uint32_t(kv::q8_quant_bytes(p.n_head_kv, d));
    a.n_tiles = plan.tile_slots;
    a.n_splits = plan.n_splits;
    a.split_len = plan.split_len;
    a.out = out;
    uint8_t* base = static_cast<uint8_t*>(scratch);
    if (plan.planned) {
        a.tile_start = reinterpret_cast<const int32_t*>(base);
        a.tile_count = a.tile_start + n;
    }
    if (plan.n_splits > 1) {
        a.part_acc = reinterpret_cast<float*>(base + tiles_bytes(n));
        a.part_ml = a.part_acc + uint64_t(n) * p.n_head * plan.n_splits * d;
    }

    if (plan.planned) {
        int32_t* starts = reinterpret_cast<int32_t*>(base);
        launch_stream_kernel(attention_plan_tiles, dim3(1), dim3(kPlanThreads), 0, stream, "attention (tile plan)",
                             batch.token_seq, n, plan.tokens_per_tile, starts, starts + n);
    }
    const dim3 grid(plan.tile_slots * p.n_head_kv, plan.n_splits);
    switch (d) {
        case 64: launch_dim<64>(a, decode, q8, grid, stream); break;
        case 128: launch_dim<128>(a, decode, q8, grid, stream); break;
        default: launch_dim<256>(a, decode, q8, grid, stream); break;
    }
    if (plan.n_splits > 1) {
        attention_merge_splits(a.part_acc, a.part_ml, uint32_t(uint64_t(n) * p.n_head), plan.n_splits, d, out, stream);
    }
}

}  // namespace llcuda::cuda
