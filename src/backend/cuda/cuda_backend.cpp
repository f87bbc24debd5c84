// The CUDA backend (host code; the kernels are in the .cu files): the block of
// src/backend/cpu/cpu_backend.cpp as a sequence of kernel launches on one stream. Weights stay
// quantized on the device (kernels.h: upload_matrix); activations are float32; the KV cache is f16
// (or q8_0) in per-layer pools addressed through the page tables.
//
// A forward pass copies the batch's metadata (token ids, positions, sequence of each token, page
// tables, logits rows) to the device in one transfer, then launches per layer:
//   [rms_norm inside] q·k·v product (+bias, +q/k norm) → rope + KV write → attention → o product
//   adding into the residual → [rms_norm inside] gate·up product → GLU → down product adding into
//   the residual
// and finally gathers the logits rows and runs the output product (normalizing inside). Gemma's
// post-norms need the product in scratch and a separate residual add. Pure decode steps (one token
// per sequence) are captured once per shape bucket as a CUDA graph and replayed.
#include <cuda_runtime.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "backend/batch_check.h"
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/device_memory.h"
#include "backend/cuda/kernel_profiler.h"
#include "backend/cuda/kernels.h"
#include "llcuda/error.h"

namespace llcuda::cuda {

namespace {

// Rows of several matrices of one type and width, stacked into one host matrix (for one upload).
struct StackedMatrix {
    std::vector<uint8_t> bytes;
    MatrixView view;
};

bool can_stack(std::initializer_list<const MatrixView*> parts) {
    const MatrixView* first = *parts.begin();
    for (const MatrixView* m : parts) {
        if (!m->present() || m->type != first->type || m->n_cols != first->n_cols) return false;
    }
    return true;
}

StackedMatrix stack_rows(std::initializer_list<const MatrixView*> parts, const std::string& name) {
    StackedMatrix s;
    const MatrixView* first = *parts.begin();
    s.view = *first;
    s.view.name = name;
    s.view.n_rows = 0;
    for (const MatrixView* m : parts) {
        s.bytes.insert(s.bytes.end(), m->data, m->data + m->n_rows * m->row_bytes);
        s.view.n_rows += m->n_rows;
    }
    s.view.data = s.bytes.data();
    return s;
}

// Graphs are keyed by everything that is baked into their launches.
using GraphKey = std::tuple<uint32_t, uint32_t, uint32_t, uint32_t>;  // tokens, table stride, kv bucket, logit rows

constexpr uint32_t kKvLenBucket = 256;       // max_kv_len rounded up to this for decode graphs
constexpr uint32_t kTableStrideBucket = 64;  // page-table stride rounded up to this many blocks
constexpr size_t kMaxGraphs = 64;

uint32_t round_up(uint32_t x, uint32_t m) { return (x + m - 1) / m * m; }

struct LayerOnDevice {
    // wqkv holds q, k and v stacked (phi3's own tensor, or the three concatenated at upload when
    // they share a type: one product that fills the GPU instead of three, two of them skinny).
    // ffn_up holds gate then up rows when fused_gate_up (phi3's tensor, or concatenated likewise).
    // wqk holds q and k stacked when v alone has another type (Q4_K_M's Q6_K attn_v layers) and
    // there are no biases: one product and one activation conversion instead of two.
    DeviceMatrix wq, wk, wv, wqkv, wqk, wo, ffn_gate, ffn_up, ffn_down;
    bool fused_qkv = false, fused_qk = false, fused_gate_up = false;
    const float* bqkv = nullptr;  // (q_dim + k_dim + v_dim) biases in the fused layout
    const float *attn_norm = nullptr, *bq = nullptr, *bk = nullptr, *bv = nullptr;
    const float *q_norm = nullptr, *k_norm = nullptr, *post_attn_norm = nullptr;
    const float *ffn_norm = nullptr, *post_ffn_norm = nullptr;
    KvLayer kv;
};

class CudaBackend final : public ComputeBackend {
public:
    CudaBackend(const ModelConfig& c, const ModelWeights& w, const KvCacheShape& kv, const CudaBackendOptions& o);
    ~CudaBackend() override;

    std::string name() const override { return "cuda"; }
    void forward(const Batch& batch) override;
    bool forward_returns_early() const override { return true; }  // kernels (or a graph) queued on stream_
    void copy_logits(std::vector<float>& out) override;
    std::vector<int32_t> argmax() override;
    void top_candidates(std::span<const CandidateRequest> requests, std::vector<RowCandidates>& out) override;
    // What the pools really hold: llcuda/kv_size.h's formula for f16; q8_0 pools pad each slot's
    // scales to 16 bytes (ops_kv.cuh), a little over the formula's 34 bytes per 32 values.
    uint64_t kv_bytes_per_position() const override {
        return uint64_t(c_.n_layer) *
               (kv_slot_bytes(kv_type_, c_.n_head_kv, c_.head_dim_k) + kv_slot_bytes(kv_type_, c_.n_head_kv, c_.head_dim_v));
    }

private:
    void check_memory(const ModelWeights& w) const;
    static uint64_t f16_copies_bytes(const ModelWeights& w);
    void size_kv_pool(const AttentionParams& ap);
    void upload_weights(const ModelWeights& w);
    const float* upload_vector(const std::vector<float>& v);
    void prepare_metadata(const Batch& batch, uint32_t table_stride);
    void launch_forward(const DeviceBatch& db, uint32_t n_logits);
    void attention_block(uint32_t il, const DeviceBatch& db);
    void ffn_block(uint32_t il, uint32_t n);
    void residual_product(const DeviceMatrix& w, const float* a, uint32_t n, const float* post_norm, const char* label);

    const ModelConfig& c_;
    KvCacheShape kv_shape_;
    KvType kv_type_;
    CudaBackendOptions opt_;
    cudaStream_t stream_ = nullptr;
    std::unique_ptr<MatmulWorkspace> ws_;

    DeviceMatrix token_embd_, output_;
    const float* output_norm_ = nullptr;
    const float* rope_freq_factors_ = nullptr;
    std::vector<LayerOnDevice> layers_;
    std::vector<DeviceBuffer> vectors_;   // norm weights, biases, rope factors
    std::vector<DeviceBuffer> kv_pools_;  // per layer: K pool then V pool

    // Activations, T = max_batch_tokens, R = max_logit_rows (row-major, one row per token):
    DeviceBuffer x_;      // (T, n_embd) residual stream
    DeviceBuffer qkv_;    // (T, q_dim + k_dim + v_dim): q, k, v side by side in each row
    DeviceBuffer attn_;   // (T, n_head * head_dim_v)
    DeviceBuffer proj_;   // (T, n_embd)
    DeviceBuffer gate_;   // (T, n_ff) or (T, 2 n_ff) for a fused gate/up product
    DeviceBuffer up_;     // (T, n_ff)
    DeviceBuffer act_;    // (T, n_ff)
    DeviceBuffer out_h_;  // (R, n_embd) the residual rows that get logits
    DeviceBuffer logits_; // (R, n_vocab)
    DeviceBuffer ids_;    // (R) int32 argmax results
    // top_candidates, grown on demand (then reused: no allocation per step): up (n TopkRow, the
    // extra ids, then the masked rows' allowed-token masks, one upload), down (n log-sum-exp floats,
    // the extra logits, then the TopkEntry results at an 8-byte offset), kernel workspace.
    DeviceBuffer topk_up_, topk_down_, topk_ws_;
    PinnedBuffer topk_up_host_, topk_down_host_;
    uint64_t topk_up_cap_ = 0, topk_down_cap_ = 0;
    DeviceBuffer attn_scratch_;
    DeviceBuffer argmax_scratch_;  // partial maxima of the many-block argmax
    // Metadata: (T) token ids, (T) positions, (T) sequence index, (R) logits rows, then page tables.
    DeviceBuffer meta_;
    PinnedBuffer meta_host_;
    uint32_t meta_capacity_ = 0;          // int32 elements in meta_ / meta_host_
    uint32_t n_logit_rows_ = 0;
    uint32_t qkv_stride_ = 0;

    std::map<GraphKey, cudaGraphExec_t> graphs_;
    // A decode shape runs eagerly the first time it is seen (the matmul workspace grows to what
    // it needs outside any capture) and is captured the second time. graphs_ were all captured
    // under workspace generation graphs_generation_; a later reallocation frees buffers they
    // point at, so they are dropped then (an old graph replayed read freed memory: an illegal
    // address at 64 concurrent sequences).
    std::set<GraphKey> seen_keys_;
    uint64_t graphs_generation_ = 0;
    KernelProfiler profiler_;  // LLCUDA_PROFILE=1
};

CudaBackend::CudaBackend(const ModelConfig& c, const ModelWeights& w, const KvCacheShape& kv,
                         const CudaBackendOptions& o)
    : c_(c), kv_shape_(kv), kv_type_(o.kv_type == KvCacheType::Q8_0 ? KvType::Q8_0 : KvType::F16), opt_(o) {
    CUDA_CHECK(cudaSetDevice(o.device));
    if (kv_type_ == KvType::Q8_0 && (c.head_dim_k % 32 != 0 || c.head_dim_v % 32 != 0)) {
        throw Error(ErrorKind::Unsupported,
                    fmt::format("a q8_0 KV cache needs head dimensions divisible by 32 (this model has {} and {})",
                                c.head_dim_k, c.head_dim_v));
    }
    check_memory(w);  // with a memory-sized pool, kv.n_blocks is its minimum (one context)
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    ws_ = std::make_unique<MatmulWorkspace>(stream_);
    upload_weights(w);

    const uint64_t T = o.max_batch_tokens, R = o.max_logit_rows;
    const uint64_t q_dim = uint64_t(c.n_head) * c.head_dim_k, k_dim = uint64_t(c.n_head_kv) * c.head_dim_k;
    const uint64_t v_dim = uint64_t(c.n_head_kv) * c.head_dim_v, o_dim = uint64_t(c.n_head) * c.head_dim_v;
    qkv_stride_ = uint32_t(q_dim + k_dim + v_dim);
    const uint64_t ff_cols = 2ull * c.n_ff;  // room for a fused gate/up product
    x_ = DeviceBuffer(T * c.n_embd * 4, "activations");
    qkv_ = DeviceBuffer(T * qkv_stride_ * 4, "activations");
    attn_ = DeviceBuffer(T * o_dim * 4, "activations");
    proj_ = DeviceBuffer(T * c.n_embd * 4, "activations");
    gate_ = DeviceBuffer(T * ff_cols * 4, "activations");
    up_ = DeviceBuffer(T * c.n_ff * 4, "activations");
    act_ = DeviceBuffer(T * c.n_ff * 4, "activations");
    out_h_ = DeviceBuffer(R * c.n_embd * 4, "logits");
    logits_ = DeviceBuffer(R * c.n_vocab * 4, "logits");
    ids_ = DeviceBuffer(R * 4, "logits");
    argmax_scratch_ = DeviceBuffer(argmax_scratch_bytes(uint32_t(R), c.n_vocab), "argmax scratch");

    // The KV pools come last, so that a pool sized from memory sees what everything else took.
    AttentionParams ap;
    ap.n_head = c.n_head;
    ap.n_head_kv = c.n_head_kv;
    ap.head_dim_k = c.head_dim_k;
    ap.head_dim_v = c.head_dim_v;
    if (o.size_kv_pool) size_kv_pool(ap);
    const uint64_t slots = kv_shape_.n_slots();
    for (uint32_t il = 0; il < c.n_layer; ++il) {
        const uint64_t k_bytes = slots * kv_slot_bytes(kv_type_, c.n_head_kv, c.head_dim_k);
        const uint64_t v_bytes = slots * kv_slot_bytes(kv_type_, c.n_head_kv, c.head_dim_v);
        kv_pools_.emplace_back(k_bytes + v_bytes, "KV cache");
        layers_[il].kv.k = kv_pools_.back().get();
        layers_[il].kv.v = static_cast<uint8_t*>(kv_pools_.back().get()) + k_bytes;
    }
    const uint64_t scratch = attention_scratch_bytes(ap, uint32_t(T), uint32_t(std::min<uint64_t>(slots, UINT32_MAX)));
    if (scratch > 0) {
        attn_scratch_ = DeviceBuffer(scratch, "attention scratch");
        CUDA_CHECK(cudaMemset(attn_scratch_.get(), 0, scratch));  // its merge counters start at zero
    }
}

// Asks opt_.size_kv_pool for the block count, reporting the memory free now less the attention
// scratch (which grows with the pool's length: bounded by its size for the most slots that free
// memory could hold, since a longer KV never takes fewer splits) and a reserve for the buffers
// that grow on first use.
void CudaBackend::size_kv_pool(const AttentionParams& ap) {
    size_t free_bytes = 0, total = 0;
    CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
    const uint64_t per_position = kv_bytes_per_position();
    const uint64_t most_slots = std::min<uint64_t>(free_bytes / per_position, UINT32_MAX);
    const uint64_t scratch =
        attention_scratch_bytes(ap, opt_.max_batch_tokens, uint32_t(std::max<uint64_t>(most_slots, 1)));
    // Grown on first use: the matmul workspace (a dequantized weight band of at most 64 MiB, the
    // activations as f16 and normalized copies), top-k buffers and up to kMaxGraphs captured
    // graphs; 256 MiB covers the fixed parts with room for the allocator's rounding.
    const uint64_t T = opt_.max_batch_tokens;
    const uint64_t widest = std::max({uint64_t(c_.n_embd), uint64_t(c_.n_ff), uint64_t(c_.n_head) * c_.head_dim_v});
    const uint64_t lazy = (256ull << 20) + T * (widest + 8) * 2 + T * c_.n_embd * 4;
    DeviceKvRoom room;
    room.free_bytes = free_bytes > scratch ? free_bytes - scratch : 0;
    room.reserve_bytes = lazy;
    room.bytes_per_block = per_position * kv_shape_.block_size;
    kv_shape_.n_blocks = opt_.size_kv_pool(room);
}

CudaBackend::~CudaBackend() {
    for (auto& [key, exec] : graphs_) cudaGraphExecDestroy(exec);
    if (stream_) {
        cudaStreamSynchronize(stream_);
        cudaStreamDestroy(stream_);
    }
}

// What attach_f16_copy will allocate for the matrices the products read, from the host views
// (the output head once, tied or not).
uint64_t CudaBackend::f16_copies_bytes(const ModelWeights& w) {
    auto copy = [](const MatrixView& m) -> uint64_t {
        return m.present() && takes_f16_copy(m.type) ? m.n_rows * m.n_cols * 2 : 0;
    };
    uint64_t bytes = copy(w.output.present() ? w.output : w.token_embd);
    for (const auto& l : w.layers) {
        for (const MatrixView* m : {&l.wq, &l.wk, &l.wv, &l.wqkv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down}) bytes += copy(*m);
    }
    return bytes;
}

// Fails before any allocation when the model, the KV pool and the scratch cannot fit, naming the
// bytes needed and free, instead of failing halfway through the upload.
void CudaBackend::check_memory(const ModelWeights& w) const {
    uint64_t need = w.token_embd.n_rows * w.token_embd.row_bytes;
    if (w.output.present() && w.output.data != w.token_embd.data) need += w.output.n_rows * w.output.row_bytes;
    for (const auto& l : w.layers) {
        for (const MatrixView* m : {&l.wq, &l.wk, &l.wv, &l.wqkv, &l.wo, &l.ffn_gate, &l.ffn_up, &l.ffn_down}) {
            if (m->present()) need += m->n_rows * m->row_bytes;
        }
    }
    if (opt_.f16_weight_copies) need += f16_copies_bytes(w);
    need += kv_shape_.n_slots() * kv_bytes_per_position();
    const uint64_t T = opt_.max_batch_tokens;
    need += T * (3ull * c_.n_embd + 4ull * c_.n_ff + 2ull * c_.n_head * c_.head_dim_k) * 4 +
            uint64_t(opt_.max_logit_rows) * c_.n_vocab * 4;
    size_t free_bytes = 0, total = 0;
    CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
    if (need > free_bytes) {
        throw Error(ErrorKind::OutOfMemory,
                    fmt::format("the model needs {:.2f} GiB of GPU memory (weights{}, KV cache for {} positions, scratch) "
                                "but only {:.2f} GiB of {:.2f} GiB are free; use a smaller context (-c), fewer "
                                "sequences, a q8_0 KV cache or a smaller quantization",
                                double(need) / (1ull << 30), opt_.f16_weight_copies ? " and their f16 copies" : "",
                                kv_shape_.n_slots(), double(free_bytes) / (1ull << 30),
                                double(total) / (1ull << 30)));
    }
}

const float* CudaBackend::upload_vector(const std::vector<float>& v) {
    if (v.empty()) return nullptr;
    vectors_.emplace_back(v.size() * sizeof(float), "weights");
    CUDA_CHECK(cudaMemcpy(vectors_.back().get(), v.data(), v.size() * sizeof(float), cudaMemcpyHostToDevice));
    return static_cast<const float*>(vectors_.back().get());
}

void CudaBackend::upload_weights(const ModelWeights& w) {
    auto up = [](const MatrixView& m) { return m.present() ? upload_matrix(m) : DeviceMatrix{}; };
    token_embd_ = up(w.token_embd);
    // Tied embeddings: the output product reads the same device copy.
    output_ = w.output.data == w.token_embd.data ? token_embd_ : up(w.output);
    output_norm_ = upload_vector(w.output_norm);
    rope_freq_factors_ = upload_vector(w.rope_freq_factors);
    layers_.resize(w.layers.size());
    for (size_t il = 0; il < w.layers.size(); ++il) {
        const LayerWeights& l = w.layers[il];
        LayerOnDevice& d = layers_[il];
        if (l.wqkv.present()) {
            d.wqkv = up(l.wqkv);
            d.fused_qkv = true;
        } else if (can_stack({&l.wq, &l.wk, &l.wv})) {
            const auto stacked = stack_rows({&l.wq, &l.wk, &l.wv}, l.wq.name + "+k+v");
            d.wqkv = up(stacked.view);
            d.fused_qkv = true;
            if (!l.bq.empty()) {
                std::vector<float> b = l.bq;
                b.insert(b.end(), l.bk.begin(), l.bk.end());
                b.insert(b.end(), l.bv.begin(), l.bv.end());
                d.bqkv = upload_vector(b);
            }
        } else if (l.bq.empty() && l.bk.empty() && can_stack({&l.wq, &l.wk})) {
            const auto stacked = stack_rows({&l.wq, &l.wk}, l.wq.name + "+k");
            d.wqk = up(stacked.view);
            d.fused_qk = true;
            d.wv = up(l.wv);
        } else {
            d.wq = up(l.wq);
            d.wk = up(l.wk);
            d.wv = up(l.wv);
        }
        d.wo = up(l.wo);
        if (!l.ffn_gate.present()) {
            d.ffn_up = up(l.ffn_up);  // phi3: gate and up rows already stacked
            d.fused_gate_up = true;
        } else if (can_stack({&l.ffn_gate, &l.ffn_up})) {
            const auto stacked = stack_rows({&l.ffn_gate, &l.ffn_up}, l.ffn_gate.name + "+up");
            d.ffn_up = up(stacked.view);
            d.fused_gate_up = true;
        } else {
            d.ffn_gate = up(l.ffn_gate);
            d.ffn_up = up(l.ffn_up);
        }
        d.ffn_down = up(l.ffn_down);
        d.attn_norm = upload_vector(l.attn_norm);
        d.bq = upload_vector(l.bq);
        d.bk = upload_vector(l.bk);
        d.bv = upload_vector(l.bv);
        d.q_norm = upload_vector(l.q_norm);
        d.k_norm = upload_vector(l.k_norm);
        d.post_attn_norm = upload_vector(l.post_attn_norm);
        d.ffn_norm = upload_vector(l.ffn_norm);
        d.post_ffn_norm = upload_vector(l.post_ffn_norm);
    }
    if (opt_.f16_weight_copies) {
        attach_f16_copy(output_, stream_);  // a tied head gets its own copy; the embedding lookup reads the codes
        for (LayerOnDevice& d : layers_) {
            for (DeviceMatrix* m : {&d.wq, &d.wk, &d.wv, &d.wqkv, &d.wqk, &d.wo, &d.ffn_gate, &d.ffn_up, &d.ffn_down}) {
                attach_f16_copy(*m, stream_);
            }
        }
    }
}

void CudaBackend::prepare_metadata(const Batch& batch, uint32_t table_stride) {
    const uint32_t T = opt_.max_batch_tokens, R = opt_.max_logit_rows;
    const uint32_t n_seqs = uint32_t(batch.sequences.size());
    const uint32_t need = 3 * T + R + n_seqs * table_stride;
    if (need > meta_capacity_) {
        // Reallocating moves the metadata, which captured graphs point at: drop them.
        for (auto& [key, exec] : graphs_) cudaGraphExecDestroy(exec);
        graphs_.clear();
        CUDA_CHECK(cudaStreamSynchronize(stream_));
        meta_capacity_ = std::max(need, meta_capacity_ * 2);
        meta_ = DeviceBuffer(uint64_t(meta_capacity_) * 4, "batch metadata");
        meta_host_ = PinnedBuffer(uint64_t(meta_capacity_) * 4);
    }
    // The previous step's copy must be done before the staging buffer is rewritten.
    CUDA_CHECK(cudaStreamSynchronize(stream_));
    int32_t* h = static_cast<int32_t*>(meta_host_.get());
    int32_t *tok = h, *pos = h + T, *seq = h + 2 * T, *rows = h + 3 * T, *tables = h + 3 * T + R;
    uint32_t t = 0, r = 0;
    for (uint32_t si = 0; si < n_seqs; ++si) {
        const SequenceChunk& s = batch.sequences[si];
        const uint32_t n = uint32_t(s.tokens.size());
        for (uint32_t i = 0; i < n; ++i, ++t) {
            tok[t] = s.tokens[i];
            pos[t] = int32_t(s.start + i);
            seq[t] = int32_t(si);
            if (i >= n - s.n_logits) rows[r++] = int32_t(t);
        }
        int32_t* table = tables + uint64_t(si) * table_stride;
        for (uint32_t b = 0; b < table_stride; ++b) table[b] = b < s.blocks.size() ? int32_t(s.blocks[b]) : 0;
    }
    CUDA_CHECK(cudaMemcpyAsync(meta_.get(), h, uint64_t(need) * 4, cudaMemcpyHostToDevice, stream_));
}

void CudaBackend::forward(const Batch& batch) {
    validate_batch(batch, kv_shape_, c_.n_vocab);
    const uint32_t n = batch.n_tokens(), n_logits = batch.n_logit_rows();
    if (n > opt_.max_batch_tokens || n_logits > opt_.max_logit_rows) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("a batch of {} tokens and {} logits rows exceeds this backend's {} and {}", n, n_logits,
                                opt_.max_batch_tokens, opt_.max_logit_rows));
    }
    uint32_t max_blocks = 0, max_kv_len = 0;
    bool decode_only = true;
    for (const SequenceChunk& s : batch.sequences) {
        max_blocks = std::max(max_blocks, uint32_t((s.start + s.tokens.size() + kv_shape_.block_size - 1) / kv_shape_.block_size));
        max_kv_len = std::max(max_kv_len, s.start + uint32_t(s.tokens.size()));
        decode_only = decode_only && s.tokens.size() == 1 && s.n_logits == 1;
    }
    profiler_.start_pass(decode_only);
    const bool graph = opt_.use_graphs && decode_only && !profiler_.enabled();
    // Graph steps round the shapes up so that consecutive decode steps share one graph; the kernels
    // read the true positions from the metadata, so the padding costs nothing but a little scratch.
    const uint32_t table_stride = graph ? round_up(max_blocks, kTableStrideBucket) : max_blocks;
    if (graph) max_kv_len = std::min<uint64_t>(round_up(max_kv_len, kKvLenBucket), kv_shape_.n_slots());
    prepare_metadata(batch, table_stride);

    const uint32_t T = opt_.max_batch_tokens, R = opt_.max_logit_rows;
    const int32_t* meta = static_cast<const int32_t*>(meta_.get());
    DeviceBatch db;
    db.n_tokens = n;
    db.token_pos = meta + T;
    db.token_seq = meta + 2 * T;
    db.page_tables = meta + 3 * T + R;
    db.table_stride = table_stride;
    db.block_size = kv_shape_.block_size;
    db.max_kv_len = max_kv_len;
    db.n_seqs = uint32_t(batch.sequences.size());
    n_logit_rows_ = n_logits;

    if (!graph) {
        launch_forward(db, n_logits);
        return;
    }
    const GraphKey key{n, table_stride, max_kv_len, n_logits};
    if (!graphs_.empty() && ws_->generation() != graphs_generation_) {
        CUDA_CHECK(cudaStreamSynchronize(stream_));
        for (auto& [k, exec] : graphs_) cudaGraphExecDestroy(exec);
        graphs_.clear();
    }
    auto it = graphs_.find(key);
    if (it == graphs_.end() && seen_keys_.insert(key).second) {  // first time: eager, no capture
        launch_forward(db, n_logits);
        return;
    }
    if (it == graphs_.end()) {
        if (graphs_.size() >= kMaxGraphs) {
            CUDA_CHECK(cudaStreamSynchronize(stream_));
            for (auto& [k, exec] : graphs_) cudaGraphExecDestroy(exec);
            graphs_.clear();
        }
        cudaGraph_t g = nullptr;
        CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
        try {
            launch_forward(db, n_logits);
        } catch (...) {
            cudaStreamEndCapture(stream_, &g);
            if (g) cudaGraphDestroy(g);
            throw;
        }
        CUDA_CHECK(cudaStreamEndCapture(stream_, &g));
        cudaGraphExec_t exec = nullptr;
        const cudaError_t err = cudaGraphInstantiate(&exec, g, 0);
        cudaGraphDestroy(g);
        CUDA_CHECK(err);
        if (graphs_.empty()) graphs_generation_ = ws_->generation();
        it = graphs_.emplace(key, exec).first;
    }
    CUDA_CHECK(cudaGraphLaunch(it->second, stream_));
}

void CudaBackend::launch_forward(const DeviceBatch& db, uint32_t n_logits) {
    const uint32_t n = db.n_tokens, d = c_.n_embd;
    const int32_t* tokens = static_cast<const int32_t*>(meta_.get());
    const int32_t* rows = tokens + 3 * opt_.max_batch_tokens;
    float* x = static_cast<float*>(x_.get());
    const float embed_scale = c_.scale_embeddings ? std::sqrt(float(d)) : 1.0f;
    profiled(profiler_, "embed_rows", stream_, [&] { embed_rows(token_embd_, tokens, n, embed_scale, x, stream_); });
    for (uint32_t il = 0; il < c_.n_layer; ++il) {
        attention_block(il, db);
        ffn_block(il, n);
    }
    if (n_logits == 0) return;
    float* out_h = static_cast<float*>(out_h_.get());
    profiled(profiler_, "gather_rows", stream_, [&] { gather_rows(x, rows, n_logits, d, out_h, stream_); });
    float* logits = static_cast<float*>(logits_.get());
    MatmulFusion norm_in;  // the output norm runs inside the product
    norm_in.norm_weight = output_norm_;
    norm_in.norm_eps = c_.norm_eps;
    profiled(profiler_, "matmul output", stream_, [&] { matmul(output_, out_h, n_logits, logits, *ws_, stream_, norm_in); });
    if (c_.final_logit_softcap > 0) profiled(profiler_, "softcap", stream_, [&] { softcap(logits, uint64_t(n_logits) * c_.n_vocab, c_.final_logit_softcap, stream_); });
}

void CudaBackend::attention_block(uint32_t il, const DeviceBatch& db) {
    const LayerOnDevice& l = layers_[il];
    const uint32_t n = db.n_tokens, d = c_.n_embd;
    const uint32_t q_dim = c_.n_head * c_.head_dim_k, k_dim = c_.n_head_kv * c_.head_dim_k;
    const uint32_t v_dim = c_.n_head_kv * c_.head_dim_v;
    float* x = static_cast<float*>(x_.get());
    float* q = static_cast<float*>(qkv_.get());
    float *k = q + q_dim, *v = q + q_dim + k_dim;
    uint32_t q_stride = qkv_stride_, k_stride = qkv_stride_, v_stride = qkv_stride_;
    // The attention norm runs inside the products (they normalize x as they read it).
    MatmulFusion norm_in;
    norm_in.norm_weight = l.attn_norm;
    norm_in.norm_eps = c_.norm_eps;
    if (l.fused_qkv) {
        profiled(profiler_, "matmul wqkv", stream_, [&] { matmul(l.wqkv, x, n, q, *ws_, stream_, norm_in); });  // rows: q, k, v side by side
        if (l.bqkv) profiled(profiler_, "add_bias", stream_, [&] { add_bias(q, l.bqkv, n, qkv_stride_, stream_); });
    } else {
        // Separate products write packed (n, dim) blocks one after another in the qkv buffer.
        k = q + uint64_t(n) * q_dim;
        v = k + uint64_t(n) * k_dim;
        q_stride = q_dim;
        k_stride = k_dim;
        v_stride = v_dim;
        if (l.fused_qk) {  // (n, q_dim + k_dim) rows, then v packed after them
            k = q + q_dim;
            v = q + uint64_t(n) * (q_dim + k_dim);
            q_stride = k_stride = q_dim + k_dim;
            profiled(profiler_, "matmul wqk", stream_, [&] { matmul(l.wqk, x, n, q, *ws_, stream_, norm_in); });
        } else {
            profiled(profiler_, "matmul wq", stream_, [&] { matmul(l.wq, x, n, q, *ws_, stream_, norm_in); });
            profiled(profiler_, "matmul wk", stream_, [&] { matmul(l.wk, x, n, k, *ws_, stream_, norm_in); });
        }
        profiled(profiler_, "matmul wv", stream_, [&] { matmul(l.wv, x, n, v, *ws_, stream_, norm_in); });
        if (l.bq) {
            profiled(profiler_, "add_bias", stream_, [&] { add_bias(q, l.bq, n, q_dim, stream_); });
            profiled(profiler_, "add_bias", stream_, [&] { add_bias(k, l.bk, n, k_dim, stream_); });
            profiled(profiler_, "add_bias", stream_, [&] { add_bias(v, l.bv, n, v_dim, stream_); });
        }
    }
    if (c_.has_qk_norm) {
        profiled(profiler_, "rms_norm_heads", stream_, [&] { rms_norm_heads(q, l.q_norm, n, q_stride, c_.n_head, c_.head_dim_k, c_.norm_eps, stream_); });
        profiled(profiler_, "rms_norm_heads", stream_, [&] { rms_norm_heads(k, l.k_norm, n, k_stride, c_.n_head_kv, c_.head_dim_k, c_.norm_eps, stream_); });
    }
    RopeParams rope;
    rope.style = c_.rope_style;
    rope.rope_dim = c_.rope_dim;
    rope.base = c_.layer_rope_base(il);
    rope.freq_scale = c_.layer_freq_scale(il);
    rope.freq_factors = rope_freq_factors_;
    profiled(profiler_, "rope_store_kv", stream_, [&] { rope_store_kv(q, q_stride, k, k_stride, v, v_stride, c_.n_head, c_.n_head_kv, c_.head_dim_k, c_.head_dim_v, rope,
                  db, l.kv, kv_type_, stream_); });
    AttentionParams ap;
    ap.n_head = c_.n_head;
    ap.n_head_kv = c_.n_head_kv;
    ap.head_dim_k = c_.head_dim_k;
    ap.head_dim_v = c_.head_dim_v;
    ap.scale = c_.attn_scale;
    ap.sliding_window = c_.layer_is_local[il] ? c_.sliding_window : 0;
    float* attn = static_cast<float*>(attn_.get());
    profiled(profiler_, "attention", stream_, [&] { attention(q, q_stride, ap, db, l.kv, kv_type_, attn, attn_scratch_.get(), stream_); });
    residual_product(l.wo, attn, n, l.post_attn_norm, "matmul wo");
}

void CudaBackend::ffn_block(uint32_t il, uint32_t n) {
    const LayerOnDevice& l = layers_[il];
    const uint32_t ff = c_.n_ff;
    const float* x = static_cast<const float*>(x_.get());
    float* gate = static_cast<float*>(gate_.get());
    float* up = static_cast<float*>(up_.get());
    float* act = static_cast<float*>(act_.get());
    MatmulFusion norm_in;  // the FFN norm runs inside the products
    norm_in.norm_weight = l.ffn_norm;
    norm_in.norm_eps = c_.norm_eps;
    if (l.fused_gate_up) {
        profiled(profiler_, "matmul ffnup", stream_, [&] { matmul(l.ffn_up, x, n, gate, *ws_, stream_, norm_in); });  // (n, 2 ff): gate then up
        profiled(profiler_, "glu", stream_, [&] { glu(gate, gate + ff, n, ff, 2 * ff, c_.activation, act, stream_); });
    } else {
        profiled(profiler_, "matmul ffngate", stream_, [&] { matmul(l.ffn_gate, x, n, gate, *ws_, stream_, norm_in); });
        profiled(profiler_, "matmul ffnup", stream_, [&] { matmul(l.ffn_up, x, n, up, *ws_, stream_, norm_in); });
        profiled(profiler_, "glu", stream_, [&] { glu(gate, up, n, ff, ff, c_.activation, act, stream_); });
    }
    residual_product(l.ffn_down, act, n, l.post_ffn_norm, "matmul ffndown");
}

// x += a · Wᵀ, written by the product itself; with a post-norm (Gemma) x += rms_norm(a · Wᵀ) · w needs
// the product in scratch first.
void CudaBackend::residual_product(const DeviceMatrix& w, const float* a, uint32_t n, const float* post_norm,
                                   const char* label) {
    float* x = static_cast<float*>(x_.get());
    if (!post_norm) {
        MatmulFusion acc;
        acc.accumulate = true;
        profiled(profiler_, label, stream_, [&] { matmul(w, a, n, x, *ws_, stream_, acc); });
        return;
    }
    float* proj = static_cast<float*>(proj_.get());
    profiled(profiler_, label, stream_, [&] { matmul(w, a, n, proj, *ws_, stream_); });
    profiled(profiler_, "add_residual", stream_, [&] { add_residual(x, proj, post_norm, n, c_.n_embd, c_.norm_eps, stream_); });
}

void CudaBackend::copy_logits(std::vector<float>& out) {
    out.resize(uint64_t(n_logit_rows_) * c_.n_vocab);
    if (out.empty()) return;
    CUDA_CHECK(cudaMemcpyAsync(out.data(), logits_.get(), out.size() * sizeof(float), cudaMemcpyDeviceToHost, stream_));
    CUDA_CHECK(cudaStreamSynchronize(stream_));
    if (profiler_.enabled()) profiler_.collect();
}

std::vector<int32_t> CudaBackend::argmax() {
    std::vector<int32_t> ids(n_logit_rows_);
    if (ids.empty()) {
        CUDA_CHECK(cudaStreamSynchronize(stream_));
        return ids;
    }
    argmax_rows(static_cast<const float*>(logits_.get()), n_logit_rows_, c_.n_vocab, static_cast<int32_t*>(ids_.get()),
                argmax_scratch_.get(), stream_);
    CUDA_CHECK(cudaMemcpyAsync(ids.data(), ids_.get(), ids.size() * sizeof(int32_t), cudaMemcpyDeviceToHost, stream_));
    CUDA_CHECK(cudaStreamSynchronize(stream_));
    if (profiler_.enabled()) profiler_.collect();
    return ids;
}

static_assert(kTopkMaxCandidates == kMaxTopCandidates, "the kernel's limit is the interface's");
static_assert(sizeof(TopkEntry) == sizeof(TokenLogit), "candidates are copied as (id, logit) pairs");
// A CandidateRequest mask (bit t of 64-bit word t / 64) is uploaded as bytes and read by the kernel
// as 32-bit words (bit t of word t / 32): the same bits on little-endian host and device.
static_assert(std::endian::native == std::endian::little, "masks are uploaded as little-endian words");

void CudaBackend::top_candidates(std::span<const CandidateRequest> requests, std::vector<RowCandidates>& out) {
    check_candidate_requests(requests, n_logit_rows_, c_.n_vocab);
    out.resize(requests.size());
    if (requests.empty()) {
        CUDA_CHECK(cudaStreamSynchronize(stream_));
        return;
    }
    const uint32_t n = uint32_t(requests.size());
    uint64_t n_extra = 0, n_entries = 0, n_masked = 0;
    uint32_t max_top = 0;
    for (const CandidateRequest& r : requests) {
        n_extra += r.extra.size();
        n_entries += r.n_top;
        max_top = std::max(max_top, r.n_top);
        n_masked += r.allowed.empty() ? 0 : 1;
    }
    const uint64_t mask_words = 2 * ((uint64_t(c_.n_vocab) + 63) / 64);  // uint32 words per masked row
    const uint64_t masks_at = n * sizeof(TopkRow) + n_extra * sizeof(int32_t);  // 4-byte aligned
    const uint64_t up_bytes = masks_at + n_masked * mask_words * sizeof(uint32_t);
    const uint64_t top_at = (uint64_t(n + n_extra) * sizeof(float) + 7) / 8 * 8;
    const uint64_t down_bytes = top_at + n_entries * sizeof(TopkEntry);
    // Every call ends synchronized, so the staging buffers are free to be replaced or rewritten.
    if (up_bytes > topk_up_cap_) {
        topk_up_cap_ = std::max(up_bytes, 2 * topk_up_cap_);
        topk_up_ = DeviceBuffer(topk_up_cap_, "sampling candidates");
        topk_up_host_ = PinnedBuffer(topk_up_cap_);
    }
    if (down_bytes > topk_down_cap_) {
        topk_down_cap_ = std::max(down_bytes, 2 * topk_down_cap_);
        topk_down_ = DeviceBuffer(topk_down_cap_, "sampling candidates");
        topk_down_host_ = PinnedBuffer(topk_down_cap_);
    }
    const uint64_t ws_bytes = topk_workspace_bytes(n, c_.n_vocab);
    if (ws_bytes > topk_ws_.bytes()) topk_ws_ = DeviceBuffer(std::max(ws_bytes, 2 * topk_ws_.bytes()), "sampling candidates");

    auto* rows = static_cast<TopkRow*>(topk_up_host_.get());
    auto* extra_ids = reinterpret_cast<int32_t*>(rows + n);
    auto* masks = reinterpret_cast<uint32_t*>(static_cast<uint8_t*>(topk_up_host_.get()) + masks_at);
    uint32_t extra_at = 0, top_offset = 0, mask_at = 0;
    for (uint32_t i = 0; i < n; ++i) {
        const CandidateRequest& r = requests[i];
        uint32_t mask_offset = kTopkNoMask;
        if (!r.allowed.empty()) {  // check_candidate_requests: (n_vocab + 63) / 64 words
            std::memcpy(masks + mask_at, r.allowed.data(), r.allowed.size() * sizeof(uint64_t));
            mask_offset = mask_at;
            mask_at += uint32_t(mask_words);
        }
        rows[i] = TopkRow{r.row, r.n_top, top_offset, extra_at, uint32_t(r.extra.size()), mask_offset};
        std::copy(r.extra.begin(), r.extra.end(), extra_ids + extra_at);
        extra_at += uint32_t(r.extra.size());
        top_offset += r.n_top;
    }
    CUDA_CHECK(cudaMemcpyAsync(topk_up_.get(), rows, up_bytes, cudaMemcpyHostToDevice, stream_));
    auto* d_rows = static_cast<const TopkRow*>(topk_up_.get());
    auto* d_lse = static_cast<float*>(topk_down_.get());
    auto* d_top = reinterpret_cast<TopkEntry*>(static_cast<uint8_t*>(topk_down_.get()) + top_at);
    const auto* d_masks =
        n_masked ? reinterpret_cast<const uint32_t*>(static_cast<const uint8_t*>(topk_up_.get()) + masks_at) : nullptr;
    profiled(profiler_, "topk_rows", stream_, [&] {
        topk_rows(static_cast<const float*>(logits_.get()), c_.n_vocab, d_rows, n, max_top,
                  reinterpret_cast<const int32_t*>(d_rows + n), d_masks, d_top, d_lse + n, d_lse, topk_ws_.get(), stream_);
    });
    CUDA_CHECK(cudaMemcpyAsync(topk_down_host_.get(), topk_down_.get(), down_bytes, cudaMemcpyDeviceToHost, stream_));
    CUDA_CHECK(cudaStreamSynchronize(stream_));
    if (profiler_.enabled()) profiler_.collect();

    const auto* lse = static_cast<const float*>(topk_down_host_.get());
    const float* extra_logits = lse + n;
    const auto* top = reinterpret_cast<const TopkEntry*>(static_cast<const uint8_t*>(topk_down_host_.get()) + top_at);
    for (uint32_t i = 0; i < n; ++i) {
        RowCandidates& c = out[i];
        const TopkRow& row = rows[i];
        c.log_sum_exp = lse[i];
        c.top.clear();
        for (uint32_t j = 0; j < row.n_top; ++j) {
            const TopkEntry& e = top[row.top_offset + j];
            if (e.id < 0) break;  // a mask allowed fewer tokens: the kernel padded the rest
            c.top.push_back({e.id, e.logit});
        }
        c.extra.clear();
        for (uint32_t j = 0; j < row.n_extra; ++j) {
            const int32_t id = extra_ids[row.extra_offset + j];
            if (token_allowed(requests[i].allowed, id)) c.extra.push_back({id, extra_logits[row.extra_offset + j]});
        }
    }
}

}  // namespace

std::unique_ptr<ComputeBackend> make_cuda_backend(const ModelConfig& config, const ModelWeights& weights,
                                                  const KvCacheShape& kv, const CudaBackendOptions& options) {
    return std::make_unique<CudaBackend>(config, weights, kv, options);
}

}  // namespace llcuda::cuda
