// Causal attention over the paged KV cache (layout: ops_kv.cuh), one kernel for decode, prefill
// chunks and mixed ragged batches.
//
// Work decomposition. A block (4 warps) owns one KV head, a chunk of the query heads that share it
// (all of them when the group has at most 8) and a tile of consecutive batch tokens (one token
// for small batches, several for prefill so that K/V rows are read once for more queries); its
// "rows" are the (token, head) pairs of that tile, at most 8. Blocks are further split along the
// context (grid y, flash-decoding): split s covers positions [s * split_len, (s+1) * split_len),
// the last split everything beyond. With one split the block writes the output; with several it
// writes unnormalized partials (acc, running max, sum) to `scratch` and a second kernel merges them.
//
// Inside a block, each position's K and V rows are read by a group of D/8 lanes (16-byte f16 loads,
// 8-byte q8_0 loads, D = head_dim padded to 64/128/256); a warp thus covers 32/(D/8) positions at
// once and every warp walks its own positions, keeping a private online softmax (running max m,
// sum l, accumulator) per row in registers. Scores are in base 2 (q is pre-multiplied by
// scale * log2 e). At the end the lane groups of a warp are merged with shuffles and the warps
// through shared memory. The only barriers are at that merge.
//
// A tile's tokens may belong to different sequences (a ragged batch); the block then handles each
// run of same-sequence tokens in turn, so K/V rows are only shared within one page table.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <type_traits>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels.h"
#include "backend/cuda/ops_common.cuh"
#include "backend/cuda/ops_kv.cuh"

namespace llcuda::cuda {

namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kUnroll = 2;                // positions per lane group per step: loads in flight
constexpr uint32_t kMaxRows = 8;          // (token, head) rows per block
constexpr uint32_t kTileTokensFrom = 32;  // batches this large put several tokens in a block
constexpr uint32_t kMinSplitLen = 128;    // positions; shorter splits cost more than they save
constexpr uint32_t kMaxSplits = 128;
constexpr uint32_t kBlocksPerSm = 4;      // split until the grid has about this many blocks per SM
constexpr float kLog2e = 1.4426950408889634f;

struct Plan {
    uint32_t heads_per_chunk = 1, n_chunks = 1;  // query heads of a group per block, blocks per group
    uint32_t tokens_per_tile = 1, n_tiles = 0;
    uint32_t rows = 1;                           // tokens_per_tile * heads_per_chunk <= kMaxRows
    uint32_t n_splits = 1, split_len = 1;
};

uint32_t pow2_at_least(uint32_t n) {
    uint32_t p = 1;
    while (p < n) p *= 2;
    return p;
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
// attention() will use: the split count never shrinks as max_kv_len grows, but it is not monotone
// in n_tokens (tiles of several tokens start at kTileTokensFrom), hence the scan over token counts
// there.
Plan make_plan(const AttentionParams& p, uint32_t n_tokens, uint32_t max_kv_len, int n_sm) {
    Plan plan;
    const uint32_t group = p.n_head / p.n_head_kv;
    plan.heads_per_chunk = std::min(group, kMaxRows);
    plan.n_chunks = uint32_t(ops::ceil_div(group, plan.heads_per_chunk));
    plan.tokens_per_tile = n_tokens >= kTileTokensFrom ? std::max(1u, kMaxRows / plan.heads_per_chunk) : 1;
    plan.rows = plan.tokens_per_tile * plan.heads_per_chunk;
    plan.n_tiles = uint32_t(ops::ceil_div(n_tokens, plan.tokens_per_tile));
    const uint64_t blocks = uint64_t(plan.n_tiles) * p.n_head_kv * plan.n_chunks;
    const uint64_t target = uint64_t(kBlocksPerSm) * uint64_t(n_sm);
    const uint32_t kv_len = std::max(max_kv_len, 1u);
    uint64_t splits = 1;
    if (blocks < target) {
        splits = std::min<uint64_t>({ops::ceil_div(target, blocks), ops::ceil_div(kv_len, kMinSplitLen), kMaxSplits});
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
    const uint8_t* k_pool;
    const uint8_t* v_pool;
    uint64_t k_slot_bytes, v_slot_bytes;
    uint32_t heads_per_chunk, n_chunks, tokens_per_tile, n_splits, split_len;
    float* out;
    float* part_acc;  // (n_tokens, n_head, n_splits, dv)
    float* part_ml;   // (n_tokens, n_head, n_splits, 2): running max (base 2), sum
};

// The 8 consecutive elements [dim0, dim0 + 8) of one head's row in a slot.
template <KvType kType>
struct RowPart {
    // f16: 8 halves; q8_0: 8 int8 and the block's scale
    typename std::conditional<kType == KvType::F16, uint4, uint2>::type raw;
    float scale;

    __device__ __forceinline__ void load(const uint8_t* slot, uint32_t elem, uint64_t scales_at) {
        if constexpr (kType == KvType::F16) {
            raw = *reinterpret_cast<const uint4*>(slot + uint64_t(elem) * 2);
            scale = 1.0f;
        } else {
            raw = *reinterpret_cast<const uint2*>(slot + elem);
            scale = __half2float(reinterpret_cast<const __half*>(slot + scales_at)[elem / kv::kQ8Block]);
        }
    }
    __device__ __forceinline__ void clear() {
        if constexpr (kType == KvType::F16) {
            raw = make_uint4(0, 0, 0, 0);
        } else {
            raw = make_uint2(0, 0);
        }
        scale = 0.0f;
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
#pragma unroll
            for (int i = 0; i < 4; ++i) {
                x[i] = float(int8_t(raw.x >> (8 * i)));
                x[4 + i] = float(int8_t(raw.y >> (8 * i)));
            }
        }
    }
};

// Blocks per SM the register allocation must allow: 4 (128 registers) fits up to 4 rows of 128
// dims without spilling; head_dim 256 with 4 rows needs a little more.
template <int D, int R>
constexpr int min_blocks() {
    return R <= 2 || (R == 4 && D <= 128) ? 4 : R == 4 ? 3 : 2;
}

template <int D, int R, KvType kType>
__global__ void __launch_bounds__(kThreads, min_blocks<D, R>()) attention_kernel(const Args a) {
    constexpr int L = D / 8;   // lanes per position
    constexpr int P = 32 / L;  // positions per warp per step
    constexpr uint32_t kStep = kWarps * P * kUnroll;
    __shared__ float s_acc[kWarps][R][D];
    __shared__ float s_m[kWarps][R], s_l[kWarps][R];

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
    const uint32_t k_elem = kvh * a.dk + dim0, v_elem = kvh * a.dv + dim0;
    const uint64_t k_scales = kv::q8_quant_bytes(a.n_head_kv, a.dk), v_scales = kv::q8_quant_bytes(a.n_head_kv, a.dv);

    for (uint32_t t0 = t_begin; t0 < t_end;) {
        const int32_t seq = a.token_seq[t0];
        uint32_t t1 = t0 + 1;
        while (t1 < t_end && a.token_seq[t1] == seq) ++t1;
        const uint32_t n_rows = (t1 - t0) * hc;

        float q[R][8], acc[R][8], m[R], l[R];
        uint32_t lo[R], hi[R];  // row r attends to positions [lo, hi]
        uint32_t jlo = UINT_MAX, jhi = 0;  // union of the rows' ranges, [jlo, jhi)
#pragma unroll
        for (int r = 0; r < R; ++r) {
            m[r] = -INFINITY;
            l[r] = 0.0f;
            lo[r] = 1;
            hi[r] = 0;
#pragma unroll
            for (int i = 0; i < 8; ++i) q[r][i] = acc[r][i] = 0.0f;
            if (uint32_t(r) < n_rows) {
                const uint32_t tok = t0 + uint32_t(r) / hc, head = head0 + uint32_t(r) % hc;
                const uint32_t pos = uint32_t(a.token_pos[tok]);
                hi[r] = pos;
                lo[r] = a.window > 0 && pos + 1 > a.window ? pos + 1 - a.window : 0;
                jlo = min(jlo, lo[r]);
                jhi = max(jhi, pos + 1);
                if (k_lane) {
                    const float* qr = a.q + uint64_t(tok) * a.q_stride + uint64_t(head) * a.dk + dim0;
#pragma unroll
                    for (int i = 0; i < 8; ++i) q[r][i] = qr[i] * a.qscale;
                }
            }
        }

        const uint32_t jbeg = max(jlo, s_begin), jend = min(jhi, s_end);
        // The loop bounds are the same for the whole block, so every lane reaches every shuffle.
        for (uint32_t base = jbeg; base < jend; base += kStep) {
            RowPart<kType> kr[kUnroll], vr[kUnroll];
            uint32_t js[kUnroll];
#pragma unroll
            for (int u = 0; u < kUnroll; ++u) {
                js[u] = base + (uint32_t(u) * kWarps + warp) * P + sub;
                kr[u].clear();
                vr[u].clear();
                if (js[u] < jend) {
                    const uint64_t slot = kv::slot_of(a.page_tables, a.table_stride, a.block_size, seq, js[u]);
                    if (k_lane) kr[u].load(a.k_pool + slot * a.k_slot_bytes, k_elem, k_scales);
                    if (v_lane) vr[u].load(a.v_pool + slot * a.v_slot_bytes, v_elem, v_scales);
                }
            }
            // Scores of this step's positions (-inf where a row must not look), then one online
            // softmax update per row for all of them: one rescale of the accumulator per step.
            float sc[kUnroll][R];
#pragma unroll
            for (int u = 0; u < kUnroll; ++u) {
                float kx[8];
                kr[u].unpack(kx);
                const uint32_t j = js[u];
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
                    if (in_split && j >= lo[r] && j <= hi[r]) sc[u][r] = s;
                }
            }
            float vx[kUnroll][8];
#pragma unroll
            for (int u = 0; u < kUnroll; ++u) vr[u].unpack(vx[u]);
#pragma unroll
            for (int r = 0; r < R; ++r) {
                float m_new = m[r];
#pragma unroll
                for (int u = 0; u < kUnroll; ++u) m_new = fmaxf(m_new, sc[u][r]);
                if (m_new == -INFINITY) continue;  // nothing seen yet (also rows past n_rows)
                const float alpha = exp2f(m[r] - m_new);  // 0 while m is still -inf
                float pv[kUnroll], p_sum = 0.0f;
#pragma unroll
                for (int u = 0; u < kUnroll; ++u) {
                    const float p = exp2f(sc[u][r] - m_new);  // 0 for masked positions
                    p_sum += p;
                    pv[u] = p * vr[u].scale;
                }
                l[r] = l[r] * alpha + p_sum;
#pragma unroll
                for (int i = 0; i < 8; ++i) {
                    float x = acc[r][i] * alpha;
#pragma unroll
                    for (int u = 0; u < kUnroll; ++u) x += pv[u] * vx[u][i];
                    acc[r][i] = x;
                }
                m[r] = m_new;
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
        for (uint32_t idx = threadIdx.x; idx < n_rows * a.dv; idx += kThreads) {
            const uint32_t r = idx / a.dv, d = idx % a.dv;
            float m_all = -INFINITY;
#pragma unroll
            for (int w = 0; w < kWarps; ++w) m_all = fmaxf(m_all, s_m[w][r]);
            float num = 0.0f, den = 0.0f;
#pragma unroll
            for (int w = 0; w < kWarps; ++w) {
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
        __syncthreads();  // shared memory is reused by the next run
        t0 = t1;
    }
}

// One block per (token, head): weights each split's partial by exp2(m_s - max) and normalizes.
__global__ void __launch_bounds__(kThreads)
    attention_combine_kernel(const float* part_acc, const float* part_ml, uint32_t n_splits, uint32_t dv, float* out) {
    __shared__ float w[kMaxSplits];
    const uint64_t row = blockIdx.x;
    const float* ml = part_ml + row * n_splits * 2;
    float m_all = -INFINITY;
    for (uint32_t s = 0; s < n_splits; ++s) m_all = fmaxf(m_all, ml[2 * s]);
    for (uint32_t s = threadIdx.x; s < n_splits; s += blockDim.x) {
        w[s] = ml[2 * s] == -INFINITY ? 0.0f : exp2f(ml[2 * s] - m_all);
    }
    __syncthreads();
    float den = 0.0f;
    for (uint32_t s = 0; s < n_splits; ++s) den += w[s] * ml[2 * s + 1];
    const float* acc = part_acc + row * n_splits * dv;
    for (uint32_t d = threadIdx.x; d < dv; d += blockDim.x) {
        float num = 0.0f;
        for (uint32_t s = 0; s < n_splits; ++s) num += w[s] * acc[uint64_t(s) * dv + d];
        out[row * dv + d] = den > 0.0f ? num / den : 0.0f;
    }
}

template <int D, int R>
void launch_rows(const Args& a, dim3 grid, KvType type, cudaStream_t stream) {
    if (type == KvType::F16) {
        attention_kernel<D, R, KvType::F16><<<grid, kThreads, 0, stream>>>(a);
    } else {
        attention_kernel<D, R, KvType::Q8_0><<<grid, kThreads, 0, stream>>>(a);
    }
}

template <int D>
void launch_dim(const Args& a, uint32_t rows, dim3 grid, KvType type, cudaStream_t stream) {
    switch (pow2_at_least(rows)) {
        case 1: launch_rows<D, 1>(a, grid, type, stream); break;
        case 2: launch_rows<D, 2>(a, grid, type, stream); break;
        case 4: launch_rows<D, 4>(a, grid, type, stream); break;
        default: launch_rows<D, 8>(a, grid, type, stream); break;
    }
}

}  // namespace

uint64_t attention_scratch_bytes(const AttentionParams& p, uint32_t max_tokens, uint32_t max_kv_len) {
    if (p.n_head_kv == 0 || p.n_head % p.n_head_kv != 0) {
        ops::invalid("attention_scratch_bytes: " + std::to_string(p.n_head) + " query heads cannot share " +
                     std::to_string(p.n_head_kv) + " KV heads evenly");
    }
    const int n_sm = sm_count();
    uint64_t bytes = 0;
    for (uint32_t n = 1; n <= max_tokens; ++n) {
        const Plan plan = make_plan(p, n, max_kv_len, n_sm);
        if (plan.n_splits > 1) {
            bytes = std::max(bytes, uint64_t(n) * p.n_head * plan.n_splits * (p.head_dim_v + 2) * sizeof(float));
        }
    }
    return bytes;
}

void attention(const float* q, uint32_t q_stride, const AttentionParams& p, const DeviceBatch& batch, KvLayer kv,
               KvType kv_type, float* out, void* scratch, cudaStream_t stream) {
    if (batch.n_tokens == 0) return;
    kv::check_shape("attention", kv_type, p.n_head, p.n_head_kv, p.head_dim_k, p.head_dim_v, batch, kv);
    if (q_stride < uint64_t(p.n_head) * p.head_dim_k) ops::invalid("attention: q row stride smaller than its heads");
    const Plan plan = make_plan(p, batch.n_tokens, batch.max_kv_len, sm_count());
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
    a.k_pool = static_cast<const uint8_t*>(kv.k);
    a.v_pool = static_cast<const uint8_t*>(kv.v);
    a.k_slot_bytes = kv::slot_bytes(kv_type, p.n_head_kv, p.head_dim_k);
    a.v_slot_bytes = kv::slot_bytes(kv_type, p.n_head_kv, p.head_dim_v);
    a.heads_per_chunk = plan.heads_per_chunk;
    a.n_chunks = plan.n_chunks;
    a.tokens_per_tile = plan.tokens_per_tile;
    a.n_splits = plan.n_splits;
    a.split_len = plan.split_len;
    a.out = out;
    const uint64_t n_parts = uint64_t(batch.n_tokens) * p.n_head * plan.n_splits;
    a.part_acc = static_cast<float*>(scratch);
    a.part_ml = plan.n_splits > 1 ? a.part_acc + n_parts * p.head_dim_v : nullptr;

    const dim3 grid(plan.n_tiles * p.n_head_kv * plan.n_chunks, plan.n_splits);
    const uint32_t d = std::max(p.head_dim_k, p.head_dim_v);
    if (d <= 64) {
        launch_dim<64>(a, plan.rows, grid, kv_type, stream);
    } else if (d <= 128) {
        launch_dim<128>(a, plan.rows, grid, kv_type, stream);
    } else {
        launch_dim<256>(a, plan.rows, grid, kv_type, stream);
    }
    check_launch("attention");
    if (plan.n_splits > 1) {
        attention_combine_kernel<<<unsigned(uint64_t(batch.n_tokens) * p.n_head), kThreads, 0, stream>>>(
            a.part_acc, a.part_ml, plan.n_splits, p.head_dim_v, out);
        check_launch("attention (split combine)");
    }
}

}  // namespace llcuda::cuda
