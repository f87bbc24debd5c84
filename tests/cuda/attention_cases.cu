// attention over the paged KV cache against a float64 reference of the CPU engine's rule: token t
// of sequence s at position p, head h, attends to positions [lo, p] of s (lo = p + 1 - window for
// a sliding-window layer past its window, else 0) with softmax(scale * q·k) over kv head
// h / (n_head / n_head_kv).
//
// Family "attention" fills the cache on the host (random rows encoded in the device layout, f16
// or llcuda::quantize's Q8_0) and compares with the reference computed from the same decoded
// cache contents, so it measures the kernel alone. Two kernels, two tolerances:
//   CUDA-core kernel: 1e-4 (float32 online softmax against float64; observed near 1e-6).
//   tensor-core kernel (cases named "[tensor cores]": f16 and q8_0 caches at the shapes
//   attention_mma_covers accepts): 2e-3. It rounds q (times scale·log2 e) and the softmax weights
//   P to f16 before the products (f16 K and V are exact); each rounding is at most 2^-11
//   relative, so scores move by ~3e-4 relative and weights by ~3e-4, which mostly averages out
//   over keys: expected errors 2e-4 - 6e-4 with these peaky softmaxes (q in [-4, 4]). A q8_0
//   cache's values quant * scale are rounded to f16 once more on their way to the products (the
//   q8_0 rounding itself is in the decoded reference): a third rounding of the same size, so
//   expected errors about 1.2-1.5x the f16 cases' (an emulation of the kernel gave 2-4e-4).
// Slots no sequence owns hold 0xFF (NaN) bytes, so reading through a wrong page-table entry fails
// the case. Prefills over 600 tokens check ~64 sampled tokens against float64 (all outputs must
// still be finite: unwritten ones are NaN).
//
// Family "attention+rope" runs rope_store_kv (history, then the batch) and attention, and
// compares with the reference on the float keys and values the CPU engine would keep: what the
// engine sees end to end. Tolerance 1e-3 with an f16 cache (2e-3 on tensor cores), 1e-2 with q8_0
// (its rounding, about 0.4 % of each block's largest value, dominates).
//
// Plans of the CUDA-core kernel: decode steps at short contexts run one 8-warp block per KV head
// (no split), longer ones split the context (flash-decoding, a merge kernel); batches of 32+
// tokens group several tokens per block unless DeviceBatch::n_seqs says every token is its own
// sequence. Cases reach each: a lone decode token at short contexts, max_kv_len rounded up as
// decode graphs do ("kv bucket": splits past the last position are empty), 40 decode sequences
// with and without n_seqs (with n_seqs, 4+ decode sequences of a covered shape go to the tensor
// cores at any context; head_dim 96 and a group of 12 keep this kernel). The tensor-core kernel:
// prefill tiles fixed (one sequence) or planned on the device (ragged mixes, n_seqs unknown,
// interleaved tokens), split-KV for short prompts at depth and for decode at depth, head dims
// 64/128/256, groups 1-8, a 512 window. On a device where every configuration fits (160+ KB of
// shared memory per block) and LLCUDA_ATTN_MMA is not 0, a case whose kernel differs from the
// shape rule fails.
//
// Bench cases: Llama-3-8B (32/8 x 128) prefill of 512, 2048 and 8192 tokens, and 2048 with a q8_0
// cache (TFLOP/s: 2 x the causal (query, key) pairs x heads x (dk + dv)); one decode token of
// Llama-3-8B and Llama-3.2-1B (32/8 x 64) at contexts 144 (in a 256 bucket) to 32768 (f16, and
// q8_0 at 16384 and 32768); bytes = the K and V slots read, plus q and the output.
#include <cmath>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend/cpu/ops.h"
#include "backend/cuda/kernels.h"
#include "backend/cuda/ops_attention_mma.h"
#include "harness.h"
#include "kv_test_util.h"

namespace llcuda::cuda::test {
namespace {

struct AttnShape {
    const char* name;
    uint32_t n_head, n_head_kv, dk, dv;
    uint32_t window;  // 0: global layer
    float scale() const { return 1.0f / std::sqrt(float(dk)); }
};

// Rows of K and V (as floats) for every cached position of every sequence: row (s, pos) at
// offset[s] + pos.
struct ContextRows {
    uint32_t k_row = 0, v_row = 0;  // floats per position: n_head_kv * dk, n_head_kv * dv
    std::vector<uint64_t> offset;
    std::vector<float> k, v;
    const float* key(uint32_t s, uint32_t pos) const { return &k[(offset[s] + pos) * k_row]; }
    const float* value(uint32_t s, uint32_t pos) const { return &v[(offset[s] + pos) * v_row]; }
};

ContextRows random_context(const AttnShape& sh, const TestBatch& b) {
    ContextRows c;
    c.k_row = sh.n_head_kv * sh.dk;
    c.v_row = sh.n_head_kv * sh.dv;
    uint64_t rows = 0;
    for (const auto& s : b.seqs) {
        c.offset.push_back(rows);
        rows += s.start + s.n_new;
    }
    c.k = random_floats(rows * c.k_row);
    c.v = random_floats(rows * c.v_row);
    return c;
}

// The tokens a case checks: all of them, or for long prefills (whose float64 reference would take
// minutes) every k-th token and the last one, about 64 in all.
std::vector<uint32_t> checked_tokens(uint32_t n_tokens) {
    const uint32_t every = n_tokens > 600 ? (n_tokens + 63) / 64 : 1;
    std::vector<uint32_t> tokens;
    for (uint32_t t = 0; t < n_tokens; t += every) tokens.push_back(t);
    if (tokens.back() != n_tokens - 1) tokens.push_back(n_tokens - 1);
    return tokens;
}

// Rows of the given tokens of `out` (n_tokens x row).
std::vector<float> token_rows(const std::vector<float>& out, const std::vector<uint32_t>& tokens, uint64_t row) {
    std::vector<float> r;
    r.reserve(tokens.size() * row);
    for (const uint32_t t : tokens) r.insert(r.end(), out.begin() + t * row, out.begin() + (t + 1) * row);
    return r;
}

// out (tokens.size() x n_head * dv): the rows of the given tokens, float64 softmax and sums.
std::vector<float> reference(const AttnShape& sh, const TestBatch& b, const std::vector<float>& q, uint32_t q_stride,
                             const ContextRows& c, const std::vector<uint32_t>& tokens) {
    const uint32_t group = sh.n_head / sh.n_head_kv;
    std::vector<float> out(uint64_t(tokens.size()) * sh.n_head * sh.dv);
    std::vector<double> scores, acc(sh.dv);
    for (uint32_t ti = 0; ti < tokens.size(); ++ti) {
        const uint32_t t = tokens[ti];
        const uint32_t s = uint32_t(b.token_seq[t]), pos = uint32_t(b.token_pos[t]);
        const uint32_t lo = sh.window > 0 && pos + 1 > sh.window ? pos + 1 - sh.window : 0;
        for (uint32_t h = 0; h < sh.n_head; ++h) {
            const uint32_t g = h / group;
            const float* qh = &q[uint64_t(t) * q_stride + uint64_t(h) * sh.dk];
            scores.assign(pos + 1 - lo, 0.0);
            double mx = -INFINITY;
            for (uint32_t j = lo; j <= pos; ++j) {
                const float* kj = c.key(s, j) + uint64_t(g) * sh.dk;
                double dot = 0;
                for (uint32_t d = 0; d < sh.dk; ++d) dot += double(qh[d]) * double(kj[d]);
                scores[j - lo] = dot * double(sh.scale());
                mx = std::max(mx, scores[j - lo]);
            }
            double sum = 0;
            for (double& x : scores) sum += (x = std::exp(x - mx));
            std::fill(acc.begin(), acc.end(), 0.0);
            for (uint32_t j = lo; j <= pos; ++j) {
                const float* vj = c.value(s, j) + uint64_t(g) * sh.dv;
                const double p = scores[j - lo] / sum;
                for (uint32_t d = 0; d < sh.dv; ++d) acc[d] += p * double(vj[d]);
            }
            float* o = &out[(uint64_t(ti) * sh.n_head + h) * sh.dv];
            for (uint32_t d = 0; d < sh.dv; ++d) o[d] = float(acc[d]);
        }
    }
    return out;
}

AttentionParams params_of(const AttnShape& sh) {
    AttentionParams p;
    p.n_head = sh.n_head;
    p.n_head_kv = sh.n_head_kv;
    p.head_dim_k = sh.dk;
    p.head_dim_v = sh.dv;
    p.scale = sh.scale();
    p.sliding_window = sh.window;
    return p;
}

uint64_t kv_bytes_read(const AttnShape& sh, KvType type, const TestBatch& b) {
    uint64_t positions = 0;
    for (uint32_t t = 0; t < b.n_tokens(); ++t) {
        const uint32_t pos = uint32_t(b.token_pos[t]);
        const uint32_t lo = sh.window > 0 && pos + 1 > sh.window ? pos + 1 - sh.window : 0;
        positions += pos + 1 - lo;
    }
    return positions * (kv_slot_bytes(type, sh.n_head_kv, sh.dk) + kv_slot_bytes(type, sh.n_head_kv, sh.dv));
}

// Runs attention over `b` with the pools and q already on the device; returns the output.
struct AttnRun {
    CaseResult res;
    std::vector<float> out;
};

AttnRun launch_attention(const AttnShape& sh, KvType type, const TestBatch& b, const DeviceArray<float>& dq,
                         uint32_t q_stride, const KvLayer& layer, bool timed) {
    const AttentionParams p = params_of(sh);
    const uint32_t n = b.n_tokens();
    DeviceArray<float> out(uint64_t(n) * sh.n_head * sh.dv);
    out.poison();
    DeviceArray<uint8_t> scratch(attention_scratch_bytes(p, n, b.max_kv_len));
    CUDA_OK(cudaMemset(scratch.get(), 0, scratch.size()));  // the contract: zeros before the first call
    const DeviceBatch db = b.view();
    // Where every configuration fits (H100/H200, A100: 160+ KB of shared memory per block), the
    // shape rule decides the kernel; a case named "[tensor cores]" that ends up elsewhere fails.
    int dev = 0, smem = 0;
    CUDA_OK(cudaGetDevice(&dev));
    CUDA_OK(cudaDeviceGetAttribute(&smem, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
    const bool covered = attention_mma_covers(p, type, n, db.n_seqs, db.max_kv_len);
    const bool uses = attention_uses_mma(p, type, n, db.n_seqs, db.max_kv_len, dq.get(), q_stride);
    if (attention_mma_enabled() && smem >= 160 * 1024 && covered != uses) {
        throw std::runtime_error(std::string("attention: expected the ") + (covered ? "tensor-core" : "CUDA-core") +
                                 " kernel");
    }
    auto launch = [&] { attention(dq.get(), q_stride, p, db, layer, type, out.get(), scratch.get(), nullptr); };
    // Twice before checking: the second call must find the split-merge counters as the first
    // found them (back at zero), as every later decode step and graph replay does.
    launch();
    out.poison();
    launch();
    sync_check("attention");
    AttnRun r;
    r.out = out.download();
    r.res.bytes = kv_bytes_read(sh, type, b) + uint64_t(n) * sh.n_head * (sh.dk + sh.dv) * sizeof(float);
    uint64_t positions = 0;
    for (uint32_t t = 0; t < n; ++t) positions += uint32_t(b.token_pos[t]) + 1;
    r.res.flops = 2.0 * double(positions) * sh.n_head * (sh.dk + sh.dv);
    if (timed) r.res.median_us = time_median_us(launch);
    return r;
}

// Variants of a batch: token order, whether n_seqs is reported, max_kv_len rounded up to a bucket.
struct AttnOpts {
    bool interleave = false;
    bool report_seqs = true;
    uint32_t kv_bucket = 0;  // 0: max_kv_len exact
};

CaseResult run_attention(const AttnShape& sh, KvType type, const std::vector<SeqSpec>& seqs, const AttnOpts& opts,
                         bool timed) {
    TestBatch b = make_batch(seqs, 16, opts.interleave);
    b.report_seqs = opts.report_seqs;
    if (opts.kv_bucket) b.max_kv_len = (b.max_kv_len + opts.kv_bucket - 1) / opts.kv_bucket * opts.kv_bucket;
    const uint64_t n_slots = uint64_t(b.n_blocks) * b.block_size;
    const ContextRows ctx = random_context(sh, b);
    HostPool kp(type, sh.n_head_kv, sh.dk, n_slots), vp(type, sh.n_head_kv, sh.dv, n_slots);
    std::vector<uint64_t> slots;
    for (size_t s = 0; s < b.seqs.size(); ++s) {
        for (uint32_t pos = 0; pos < b.seqs[s].start + b.seqs[s].n_new; ++pos) slots.push_back(b.slot(uint32_t(s), pos));
    }
    kp.encode_many(slots, ctx.k.data());
    vp.encode_many(slots, ctx.v.data());
    // The reference reads what the cache holds (decoded), not the floats before encoding.
    ContextRows held = ctx;
    for (size_t r = 0; r < slots.size(); ++r) {
        kp.decode(slots[r], &held.k[r * held.k_row]);
        vp.decode(slots[r], &held.v[r * held.v_row]);
    }

    const uint32_t q_stride = sh.n_head * sh.dk + 8;
    const std::vector<float> q = random_floats(uint64_t(b.n_tokens()) * q_stride, -4.0f, 4.0f);  // peaky softmax
    DeviceArray<float> dq(q);
    DeviceArray<uint8_t> kpool(kp.bytes), vpool(vp.bytes);
    AttnRun r = launch_attention(sh, type, b, dq, q_stride, KvLayer{kpool.get(), vpool.get()}, timed);
    const std::vector<uint32_t> tokens = checked_tokens(b.n_tokens());
    const uint64_t row = uint64_t(sh.n_head) * sh.dv;
    r.res.error = normalized_error(token_rows(r.out, tokens, row), reference(sh, b, q, q_stride, held, tokens));
    for (const float x : r.out) {
        if (!std::isfinite(x)) r.res.error = INFINITY;  // an unchecked row left unwritten (NaN) or broken
    }
    return r.res;
}

// rope_store_kv for positions [0, start) of every sequence, then for the batch, then attention.
CaseResult run_pipeline(const AttnShape& sh, KvType type, RopeStyle style, float base,
                        const std::vector<SeqSpec>& seqs) {
    const TestBatch b = make_batch(seqs, 16);
    std::vector<SeqSpec> history;
    for (const auto& s : seqs) history.push_back({0, s.start});
    const TestBatch hb = make_batch_like(b, history);
    const uint64_t n_slots = uint64_t(b.n_blocks) * b.block_size;
    const ContextRows raw = random_context(sh, b);  // keys before rotation, values
    const uint32_t q_stride = sh.n_head * sh.dk;

    DeviceArray<uint8_t> kpool(n_slots * kv_slot_bytes(type, sh.n_head_kv, sh.dk));
    DeviceArray<uint8_t> vpool(n_slots * kv_slot_bytes(type, sh.n_head_kv, sh.dv));
    kpool.poison();
    vpool.poison();
    const KvLayer layer{kpool.get(), vpool.get()};
    RopeParams rp;
    rp.style = style;
    rp.rope_dim = sh.dk;
    rp.base = base;

    // Gathers the raw rows of a batch's tokens and writes them through rope_store_kv.
    auto store = [&](const TestBatch& batch, const std::vector<float>& q) -> std::unique_ptr<DeviceArray<float>> {
        std::vector<float> k, v;
        for (uint32_t t = 0; t < batch.n_tokens(); ++t) {
            const uint32_t s = uint32_t(batch.token_seq[t]), pos = uint32_t(batch.token_pos[t]);
            k.insert(k.end(), raw.key(s, pos), raw.key(s, pos) + raw.k_row);
            v.insert(v.end(), raw.value(s, pos), raw.value(s, pos) + raw.v_row);
        }
        auto dq = std::make_unique<DeviceArray<float>>(q);
        if (batch.n_tokens() == 0) return dq;
        DeviceArray<float> dk(k), dv(v);
        rope_store_kv(dq->get(), q_stride, dk.get(), raw.k_row, dv.get(), raw.v_row, sh.n_head, sh.n_head_kv, sh.dk,
                      sh.dv, rp, batch.view(), layer, type, nullptr);
        sync_check("rope_store_kv");
        return dq;
    };
    store(hb, random_floats(uint64_t(hb.n_tokens()) * q_stride));
    const std::vector<float> q = random_floats(uint64_t(b.n_tokens()) * q_stride, -4.0f, 4.0f);
    const auto dq = store(b, q);
    AttnRun r = launch_attention(sh, type, b, *dq, q_stride, layer, false);

    // The CPU engine's view: rotated float keys, float values, rotated float queries.
    ContextRows rotated = raw;
    for (size_t s = 0; s < b.seqs.size(); ++s) {
        for (uint32_t pos = 0; pos < b.seqs[s].start + b.seqs[s].n_new; ++pos) {
            cpu::rope(&rotated.k[(rotated.offset[s] + pos) * rotated.k_row], sh.n_head_kv, sh.dk, sh.dk, style, pos,
                      base, 1.0f, {});
        }
    }
    std::vector<float> qr = q;
    for (uint32_t t = 0; t < b.n_tokens(); ++t) {
        cpu::rope(&qr[uint64_t(t) * q_stride], sh.n_head, sh.dk, sh.dk, style, uint32_t(b.token_pos[t]), base, 1.0f, {});
    }
    std::vector<uint32_t> all(b.n_tokens());
    std::iota(all.begin(), all.end(), 0u);
    r.res.error = normalized_error(r.out, reference(sh, b, qr, q_stride, rotated, all));
    return r.res;
}

const AttnShape kSmol{"smollm2 9/3x64", 9, 3, 64, 64, 0};
const AttnShape kLlama{"llama3-8b 32/8x128", 32, 8, 128, 128, 0};
const AttnShape kLlama1b{"llama3.2-1b 32/8x64", 32, 8, 64, 64, 0};
const AttnShape kGemmaLocal{"gemma3-270m 4/1x256 window 512", 4, 1, 256, 256, 512};
const AttnShape kGemmaGlobal{"gemma3-270m 4/1x256 global", 4, 1, 256, 256, 0};
const AttnShape kPhi{"phi3 8/8x96", 8, 8, 96, 96, 0};                // head_dim not a power of two
const AttnShape kWideGroup{"12/1x64 (group of 12)", 12, 1, 64, 64, 0};  // more heads than a block's rows
const AttnShape kKv{"8/2 k128 v64", 8, 2, 128, 64, 0};                 // head_dim_k != head_dim_v
const AttnShape kMha{"8/8x64 (no GQA)", 8, 8, 64, 64, 0};               // group of 1: 64 tokens per tile
const AttnShape kGroup8{"32/4x128 (group of 8)", 32, 4, 128, 128, 0};  // 8 tokens per tile

// Three sequences: a prefill chunk at start 100, and two decode tokens, one on a block boundary.
const std::vector<SeqSpec> kRagged = {{100, 40}, {517, 1}, {64, 1}};
// Decode only: position 0 (one key), both sides of a block boundary, a long context.
const std::vector<SeqSpec> kDecode = {{0, 1}, {15, 1}, {16, 1}, {4000, 1}};
// Sliding window: a chunk straddling the window edge, a token far past it, one inside it.
const std::vector<SeqSpec> kWindowed = {{600, 24}, {1500, 1}, {300, 1}};

// Which kernel attention() picks for a case (the shape rule, ops_attention_mma.h): the tensor-core
// path rounds q and the softmax weights to f16, so its cases get the looser tolerance.
bool expects_mma(const AttnShape& sh, KvType t, const std::vector<SeqSpec>& seqs, const AttnOpts& o) {
    uint32_t n = 0, kv = 0;
    for (const auto& q : seqs) {
        n += q.n_new;
        kv = std::max(kv, q.start + q.n_new);
    }
    if (o.kv_bucket) kv = (kv + o.kv_bucket - 1) / o.kv_bucket * o.kv_bucket;
    return attention_mma_covers(params_of(sh), t, n, o.report_seqs ? uint32_t(seqs.size()) : 0, kv);
}
constexpr double kCudaCoreTolerance = 1e-4;
constexpr double kTensorCoreTolerance = 2e-3;

std::string seq_name(const std::vector<SeqSpec>& seqs) {
    if (seqs.size() > 40) {  // many decode sequences: their count and range of starts
        uint32_t lo = UINT32_MAX, hi = 0;
        for (const auto& q : seqs) lo = std::min(lo, q.start), hi = std::max(hi, q.start);
        return std::to_string(seqs.size()) + " x " + std::to_string(lo) + ".." + std::to_string(hi) + "+1";
    }
    std::string s;
    for (const auto& q : seqs) s += (s.empty() ? "" : ",") + std::to_string(q.start) + "+" + std::to_string(q.n_new);
    return s;
}

// 40 decode sequences at scattered positions (some sharing a block-size boundary).
std::vector<SeqSpec> many_decodes() {
    std::vector<SeqSpec> seqs;
    for (uint32_t i = 0; i < 40; ++i) seqs.push_back({(i * 97) % 700, 1});
    return seqs;
}

std::vector<OpCase> attention_cases() {
    std::vector<OpCase> cases;
    auto add_opts = [&](const AttnShape& sh, KvType t, std::vector<SeqSpec> seqs, AttnOpts opts) {
        OpCase c;
        c.family = "attention";
        c.name = std::string(sh.name) + " " + kv_name(t) + " [" + seq_name(seqs) + "]" +
                 (opts.interleave ? " interleaved" : "") + (opts.report_seqs ? "" : " n_seqs unknown") +
                 (opts.kv_bucket ? " kv bucket " + std::to_string(opts.kv_bucket) : "");
        const bool mma = expects_mma(sh, t, seqs, opts);
        if (mma) c.name += " [tensor cores]";
        c.tolerance = mma ? kTensorCoreTolerance : kCudaCoreTolerance;
        c.run = [sh, t, seqs, opts](bool timed) { return run_attention(sh, t, seqs, opts, timed); };
        cases.push_back(std::move(c));
    };
    auto add = [&](const AttnShape& sh, KvType t, std::vector<SeqSpec> seqs, bool interleave) {
        AttnOpts o;
        o.interleave = interleave;
        add_opts(sh, t, std::move(seqs), o);
    };
    AttnOpts unknown_seqs, bucket256, bucket1024;
    unknown_seqs.report_seqs = false;
    bucket256.kv_bucket = 256;
    bucket1024.kv_bucket = 1024;
    for (const KvType t : {KvType::F16, KvType::Q8_0}) {
        for (const AttnShape* sh : {&kSmol, &kLlama, &kGemmaGlobal, &kPhi, &kWideGroup, &kKv}) {
            add(*sh, t, kRagged, false);
            add(*sh, t, kDecode, false);
        }
        add(kGemmaLocal, t, kWindowed, false);
        add(kGemmaLocal, t, kRagged, false);
        add(kLlama, t, kRagged, true);
        add(kSmol, t, kRagged, true);
        add(kLlama, t, {{0, 64}}, false);                 // prefill from the start
        add(kGemmaLocal, t, {{300, 300}}, false);         // prefill chunk crossing the window
        add(kSmol, t, {{200, 150}, {7, 3}}, false);       // two chunks
        // One decode token at short contexts (8-warp blocks, no split), every head size.
        for (const AttnShape* sh : {&kSmol, &kLlama, &kLlama1b, &kGemmaGlobal, &kPhi, &kWideGroup, &kKv}) {
            add(*sh, t, {{70, 1}}, false);
        }
        add(kLlama, t, {{143, 1}}, false);
        add_opts(kLlama, t, {{40, 1}}, bucket256);     // graph bucket: loop ends at the real position
        add_opts(kLlama, t, {{300, 1}}, bucket1024);   // splits past position 300 are empty
        add_opts(kLlama, t, {{600, 1}}, bucket256);    // one client served after a 512-token prompt
        add_opts(kLlama1b, t, {{600, 1}}, bucket256);
        add_opts(kGemmaLocal, t, {{700, 1}}, bucket1024);
        // 40 one-token sequences, n_seqs known: the tensor-core decode config where it covers the
        // shape (4+ sequences), the CUDA-core kernel's batched-decode plan where it does not (head
        // dims 96, a group of 12); n_seqs unknown: tiles of two sequences.
        add(kLlama, t, many_decodes(), false);
        add(kSmol, t, many_decodes(), false);        // head_dim 64, group 3
        add(kGemmaLocal, t, many_decodes(), false);  // head_dim 256, positions on both sides of the window
        add_opts(kLlama, t, many_decodes(), bucket256);  // as a decode graph sees the step
        add_opts(kLlama, t, {{0, 1}, {1, 1}, {2, 1}, {3, 1}}, bucket256);  // 4 sequences: the threshold
        add(kLlama, t, {{5, 1}, {90, 1}, {200, 1}}, false);  // 3 sequences: still the CUDA-core kernel
        add(kPhi, t, many_decodes(), false);
        add(kWideGroup, t, many_decodes(), false);
        add_opts(kLlama, t, many_decodes(), unknown_seqs);
        // A batched decode step while serving (16 and 64 sequences at 512-639 positions; tensor
        // cores): at 64, 512 blocks fill more than one wave.
        for (const uint32_t n_seq : {16u, 64u}) {
            std::vector<SeqSpec> serving;
            for (uint32_t i = 0; i < n_seq; ++i) serving.push_back({512 + (i * 37) % 128, 1});
            add(kLlama, t, serving, false);
        }
        add_opts(kSmol, t, {{0, 64}}, unknown_seqs);       // prefill tiles without n_seqs
    }
    // Tensor-core path, f16 and q8_0 caches (q8_0: int8 tiles converted to f16 in shared memory).
    // Prefill of one sequence (fixed tiles; 513 leaves a one-token tile), a short prompt at depth
    // (few tiles: split-KV with the prefill tiles), ragged mixes of chunks and decode tokens
    // (planned tiles; also without n_seqs and interleaved: many runs), decode at depth (split-KV
    // over key-split warps with warp-private pipelines, empty splits past a bucketed max_kv_len),
    // head_dim 256 with a 512 window, groups of 1 and 8.
    for (const KvType type : {KvType::F16, KvType::Q8_0}) {
        AttnOpts bucket2048;
        bucket2048.kv_bucket = 2048;
        const std::vector<SeqSpec> mixed = {{1000, 300}, {4000, 1}, {17, 1}, {2047, 1}, {300, 37}};
        for (const AttnShape* sh : {&kLlama, &kSmol}) {
            for (const uint32_t n : {64u, 200u, 513u}) add(*sh, type, {{0, n}}, false);
            add(*sh, type, mixed, false);
        }
        add(kLlama1b, type, {{0, 300}}, false);
        add(kLlama, type, {{8000, 20}}, false);
        add_opts(kLlama, type, mixed, unknown_seqs);
        add(kLlama, type, mixed, true);
        for (const AttnShape* sh : {&kLlama, &kSmol, &kLlama1b}) {
            add(*sh, type, {{4095, 1}}, false);
            add(*sh, type, {{16383, 1}}, false);
        }
        add(kLlama, type, {{4095, 1}, {1200, 1}, {3000, 1}, {5000, 1}}, false);
        add_opts(kLlama, type, {{1500, 1}}, bucket2048);
        add(kGemmaLocal, type, {{0, 700}}, false);
        add(kGemmaLocal, type, {{2000, 1}}, false);
        add(kGemmaLocal, type, {{600, 100}, {1500, 1}, {3000, 1}}, false);
        add(kGemmaGlobal, type, {{0, 200}}, false);
        add(kGemmaGlobal, type, {{3000, 1}}, false);
        for (const AttnShape* sh : {&kMha, &kGroup8}) {
            add(*sh, type, {{0, 150}}, false);
            add(*sh, type, {{2500, 1}}, false);
        }
    }
    // Bench: Llama-3-8B prefill of one sequence (the test checks ~64 sampled tokens of the long ones).
    for (const uint32_t n : {512u, 2048u, 8192u}) add(kLlama, KvType::F16, {{0, n}}, false);
    add(kLlama, KvType::Q8_0, {{0, 2048}}, false);
    // Bench: one decode token at growing contexts; 144 as a decode graph sees it (256 bucket).
    for (const AttnShape* sh : {&kLlama, &kLlama1b}) {
        add_opts(*sh, KvType::F16, {{143, 1}}, bucket256);
        for (const uint32_t ctx : {512u, 4096u, 16384u, 32768u}) add(*sh, KvType::F16, {{ctx - 1, 1}}, false);
        add(*sh, KvType::Q8_0, {{16383, 1}}, false);
        add(*sh, KvType::Q8_0, {{32767, 1}}, false);
    }
    // Bench: 16 decode sequences of 4096 positions each (batched decode).
    {
        std::vector<SeqSpec> batch16(16, SeqSpec{4095, 1});
        add(kLlama, KvType::F16, batch16, false);
    }

    struct Pipe {
        const AttnShape* sh;
        RopeStyle style;
        float base;
        std::vector<SeqSpec> seqs;
    };
    const Pipe pipes[] = {
        {&kLlama, RopeStyle::Adjacent, 500000.0f, kRagged},
        {&kSmol, RopeStyle::Adjacent, 100000.0f, kDecode},
        {&kGemmaLocal, RopeStyle::Neox, 10000.0f, kWindowed},
    };
    for (const Pipe& pp : pipes) {
        for (const KvType t : {KvType::F16, KvType::Q8_0}) {
            OpCase c;
            c.family = "attention+rope";
            c.name = std::string(pp.sh->name) + " " + kv_name(t) + " [" + seq_name(pp.seqs) + "]";
            c.tolerance = t == KvType::F16 ? (expects_mma(*pp.sh, t, pp.seqs, AttnOpts{}) ? 2e-3 : 1e-3) : 1e-2;
            if (expects_mma(*pp.sh, t, pp.seqs, AttnOpts{})) c.name += " [tensor cores]";
            c.run = [pp, t](bool) { return run_pipeline(*pp.sh, t, pp.style, pp.base, pp.seqs); };
            cases.push_back(std::move(c));
        }
    }
    return cases;
}

LLCUDA_OP_CASES(attention_cases);

}  // namespace
}  // namespace llcuda::cuda::test
