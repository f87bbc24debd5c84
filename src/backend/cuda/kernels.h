// The CUDA backend's kernel entry points: host functions that launch on a stream. Every one has a
// CPU reference (src/backend/cpu/ops.h or the quant module), a test case and a bench case drawn
// from one case list (tests/cuda/). Shapes are written as (rows, cols), row-major, activations
// float32 unless stated. Nothing here synchronizes; errors are checked by the caller after launch
// (cuda_check.h), so every launch here is graph-capturable.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <memory>

#include "llcuda/ggml_type.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace llcuda::cuda {

// ---------------------------------------------------------------------------------------------
// Weights (matmul.cu, dequant.cuh): quantized matrices on the device, dequantized inside kernels.
// ---------------------------------------------------------------------------------------------

// A weight matrix in device memory (n_rows x n_cols). The layout is the matmul module's choice:
// GGUF blocks as stored, or repacked at upload (quants and scales in separate 16-byte aligned
// arrays); code outside matmul.cu only passes it around.
struct DeviceMatrix {
    GgmlType type = GgmlType::F32;
    uint64_t n_rows = 0, n_cols = 0;
    int layout = 0;                   // matmul module's layout tag
    uint8_t* data = nullptr;          // device memory owned by this object
    uint64_t bytes = 0;
    uint64_t aux_offset = 0;          // layout-specific (e.g. where scales start in `data`)
    std::shared_ptr<void> owner;      // frees `data`
    // Optional: the whole matrix as f16 (n_rows x n_cols, row-major, unpadded), kept on the device
    // by attach_f16_copy so that products of many tokens multiply it directly instead of
    // dequantizing bands of the stored weights on every call.
    const void* f16_copy = nullptr;
    std::shared_ptr<void> f16_owner;  // frees f16_copy

    bool present() const { return data != nullptr; }
};

// True when matvec/matmul/embed kernels exist for the type.
bool weight_type_supported(GgmlType type);
// Copies (and repacks) a host matrix to the device. Throws Unsupported naming the tensor and its
// type when there is no kernel for it, OutOfMemory naming the bytes needed and free.
DeviceMatrix upload_matrix(const MatrixView& host);
// Whether attach_f16_copy makes a copy of a matrix of this type: not for the types the products
// already read without dequantizing bands (F16 in place, F32/BF16 on the f32 path).
bool takes_f16_copy(GgmlType type);
// Bytes of the f16 copy attach_f16_copy would make (0 where takes_f16_copy is false).
uint64_t f16_copy_bytes(const DeviceMatrix& w);
// Dequantizes w once into a resident f16 copy (matmul_f16_copy.cpp), used by the cuBLAS path
// (products above gemm_tile4's and gemm_rows' token counts: prompt chunks, large batches). Costs
// f16_copy_bytes of GPU memory (2 bytes a weight); OutOfMemory naming them when they are not free.
void attach_f16_copy(DeviceMatrix& w, cudaStream_t stream);

// cuBLAS handle and scratch for matrix-matrix products; one per backend (not thread-safe).
class MatmulWorkspace {
public:
    explicit MatmulWorkspace(cudaStream_t stream);
    ~MatmulWorkspace();
    MatmulWorkspace(const MatmulWorkspace&) = delete;
    MatmulWorkspace& operator=(const MatmulWorkspace&) = delete;
    struct Impl;
    Impl& impl() { return *impl_; }
    // Bumped whenever a scratch buffer is reallocated: a captured CUDA graph holds the old
    // addresses, so its owner must drop graphs captured under an older generation.
    uint64_t generation() const;

private:
    std::unique_ptr<Impl> impl_;
};

// What a product may do besides multiplying, so that decode runs fewer kernels:
//   norm_weight: x rows are replaced by rms_norm(x) * norm_weight (eps = norm_eps) before the
//                product (the RMSNorm in front of the q/k/v and gate/up products);
//   accumulate:  y += x · Wᵀ instead of y = x · Wᵀ (the residual add after the o and down products).
struct MatmulFusion {
    const float* norm_weight = nullptr;  // (W.n_cols) on the device, or nullptr
    float norm_eps = 0;
    bool accumulate = false;
};

// y (n_tokens x W.n_rows) = x (n_tokens x W.n_cols) · Wᵀ, float32 in and out.
// n_tokens <= 8: matrix-vector kernels reading the quantized weights once for all rows.
// Larger: tensor-core GEMM (dequantized tiles + cuBLAS is acceptable).
void matmul(const DeviceMatrix& w, const float* x, uint32_t n_tokens, float* y, MatmulWorkspace& ws,
            cudaStream_t stream, const MatmulFusion& fusion = {});

// out (n x W.n_cols) = rows ids[0..n) of W, times `scale` (embedding lookup; ids on the device).
void embed_rows(const DeviceMatrix& w, const int32_t* ids, uint32_t n, float scale, float* out, cudaStream_t stream);

// ---------------------------------------------------------------------------------------------
// Elementwise, normalization, rope, KV, attention, sampling (ops_*.cu).
// ---------------------------------------------------------------------------------------------

// out (n_rows x dim) = x / sqrt(mean(x^2) + eps) * w. out may alias x.
void rms_norm(const float* x, const float* w, uint32_t n_rows, uint32_t dim, float eps, float* out,
              cudaStream_t stream);
// residual (n_rows x dim) += rms_norm(o) * w   (Gemma's post-norms), or += o when w == nullptr.
void add_residual(float* residual, const float* o, const float* w, uint32_t n_rows, uint32_t dim, float eps,
                  cudaStream_t stream);
// x (n_rows x row_stride), in place: each of n_heads heads of head_dim floats (starting at column
// 0) is RMS-normalized with weight w (head_dim).   (Qwen3/Gemma-3 q_norm, k_norm)
void rms_norm_heads(float* x, const float* w, uint32_t n_rows, uint32_t row_stride, uint32_t n_heads,
                    uint32_t head_dim, float eps, cudaStream_t stream);
// x (n_rows x dim) += b (dim).
void add_bias(float* x, const float* b, uint32_t n_rows, uint32_t dim, cudaStream_t stream);
// out (n_rows x n_ff) = act(gate) * up, gate/up rows `stride` floats apart (phi3: one fused
// buffer with gate at column 0 and up at column n_ff, stride 2 n_ff).
void glu(const float* gate, const float* up, uint32_t n_rows, uint32_t n_ff, uint32_t stride, Activation act,
         float* out, cudaStream_t stream);
// x (n) = tanh(x / cap) * cap.
void softcap(float* x, uint64_t n, float cap, cudaStream_t stream);
// out (n x dim) = rows row_ids[0..n) of x (.. x dim): the tokens whose logits are wanted (gather_rows.cu).
void gather_rows(const float* x, const int32_t* row_ids, uint32_t n, uint32_t dim, float* out, cudaStream_t stream);
// ids (n_rows) = argmax of each row of logits (n_rows x n_vocab); ties: the lowest id.
void argmax_rows(const float* logits, uint32_t n_rows, uint32_t n_vocab, int32_t* ids, cudaStream_t stream);

// The KV cache of one layer on the device: pools of n_blocks * block_size slots.
//   F16:  K (slots, n_head_kv, head_dim_k) half,  V (slots, n_head_kv, head_dim_v) half
//   Q8_0: each head's row stored as head_dim/32 blocks (one f16 scale, 32 int8), layout in ops_kv.cuh
enum class KvType { F16, Q8_0 };
uint64_t kv_slot_bytes(KvType type, uint32_t n_head_kv, uint32_t head_dim);  // bytes of one slot of K (or V)

struct KvLayer {
    void* k = nullptr;
    void* v = nullptr;
};

// Where each token of a batch sits; all pointers are device memory.
struct DeviceBatch {
    uint32_t n_tokens = 0;
    const int32_t* token_pos = nullptr;    // (n_tokens) absolute position of each token
    const int32_t* token_seq = nullptr;    // (n_tokens) index of its sequence in the batch
    const int32_t* page_tables = nullptr;  // (n_seqs, table_stride) block ids
    uint32_t table_stride = 0;
    uint32_t block_size = 0;
    uint32_t max_kv_len = 0;               // max over tokens of pos + 1 (sizes split-KV work)
    uint32_t n_seqs = 0;                   // sequences in the batch; 0: unknown. With n_seqs == n_tokens
                                           // (pure decode) attention never groups tokens into tiles.
};

struct RopeParams {
    RopeStyle style = RopeStyle::Adjacent;
    uint32_t rope_dim = 0;
    float base = 10000.0f;
    float freq_scale = 1.0f;
    const float* freq_factors = nullptr;   // (rope_dim / 2) on the device, or nullptr
};

// Rotates q (n_tokens x q_stride: n_head heads of head_dim_k) in place, rotates k (n_tokens x
// k_stride: n_head_kv heads) and writes it with v (n_tokens x v_stride: n_head_kv heads of
// head_dim_v) into the cache slots of each token's position.
void rope_store_kv(float* q, uint32_t q_stride, const float* k, uint32_t k_stride, const float* v,
                   uint32_t v_stride, uint32_t n_head, uint32_t n_head_kv, uint32_t head_dim_k, uint32_t head_dim_v,
                   const RopeParams& rope, const DeviceBatch& batch, KvLayer kv, KvType kv_type,
                   cudaStream_t stream);

struct AttentionParams {
    uint32_t n_head = 0, n_head_kv = 0, head_dim_k = 0, head_dim_v = 0;
    float scale = 0;                 // multiplier on q·k
    uint32_t sliding_window = 0;     // 0: whole context; else positions (pos - window, pos]
};

// Causal attention of every batch token over its sequence's cached positions [lo, pos]:
// out (n_tokens x n_head * head_dim_v) from q (n_tokens x q_stride). Reads K/V through the page
// tables; splits long contexts over several blocks (flash-decoding) using `scratch`
// (attention_scratch_bytes) for the partial results and the merge counters: zero-fill the scratch
// once before its first use (attention leaves the counters at zero; nothing else may write there).
uint64_t attention_scratch_bytes(const AttentionParams& p, uint32_t max_tokens, uint32_t max_kv_len);
void attention(const float* q, uint32_t q_stride, const AttentionParams& p, const DeviceBatch& batch, KvLayer kv,
               KvType kv_type, float* out, void* scratch, cudaStream_t stream);

// argmax_rows spread over many blocks per row (large vocabularies), two launches, partial results in
// `scratch` (argmax_scratch_bytes(n_rows, n_vocab) bytes, no initialization needed). Same result
// as argmax_rows; the overload above runs one block per row and needs no scratch.
uint64_t argmax_scratch_bytes(uint32_t max_rows, uint32_t n_vocab);
void argmax_rows(const float* logits, uint32_t n_rows, uint32_t n_vocab, int32_t* ids, void* scratch,
                 cudaStream_t stream);

// ---------------------------------------------------------------------------------------------
// Candidates for sampling on the host (ops_topk.cu): ComputeBackend::top_candidates.
// ---------------------------------------------------------------------------------------------

constexpr uint32_t kTopkMaxCandidates = 2048;  // n_top at most (= llcuda::kMaxTopCandidates)
constexpr uint32_t kTopkNoMask = 0xFFFFFFFFu;  // TopkRow::mask_offset of a row where every token is allowed

// One row's request, in device memory.
struct TopkRow {
    uint32_t row = 0;           // logits row
    uint32_t n_top = 0;         // 1 .. min(n_vocab, kTopkMaxCandidates)
    uint32_t top_offset = 0;    // its n_top results start at top[top_offset]
    uint32_t extra_offset = 0;  // its extra ids start at extra_ids[extra_offset], their logits likewise
    uint32_t n_extra = 0;
    // Its allowed-token mask starts at masks[mask_offset]: bit t of word t / 32 set = token t may be
    // chosen ((n_vocab + 31) / 32 words at least). kTopkNoMask: every token.
    uint32_t mask_offset = kTopkNoMask;
};
struct TopkEntry {
    int32_t id;
    float logit;
};

// Device scratch topk_rows needs for n_requests rows of n_vocab (no initialization needed).
uint64_t topk_workspace_bytes(uint32_t n_requests, uint32_t n_vocab);
// For each request r (requests, extra_ids, masks: device memory; max_n_top: the largest n_top, checked):
//   top[top_offset + j], j < n_top = (id, logit) of the row's n_top largest logits among its allowed
//     tokens, descending, equal logits by lower id (-0 and +0 are equal); when the mask allows only
//     a < n_top tokens, entries j >= a are (-1, -inf);
//   extra_logits[extra_offset + i] = logits[row][extra_ids[extra_offset + i]] (NaN outside the
//     vocabulary), whatever the mask says (the caller drops the disallowed ones);
//   log_sum_exp[r] = log Σ exp(logits[row][:]) over the whole row, whatever the mask says (float;
//     the host reference sums in double).
// `masks` may be null when no request has one (mask_offset kTopkNoMask everywhere): that launch
// reads no mask at all.
void topk_rows(const float* logits, uint32_t n_vocab, const TopkRow* requests, uint32_t n_requests, uint32_t max_n_top,
               const int32_t* extra_ids, const uint32_t* masks, TopkEntry* top, float* extra_logits, float* log_sum_exp,
               void* workspace, cudaStream_t stream);

}  // namespace llcuda::cuda
