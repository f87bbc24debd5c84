// Random-weight GGUF models with the exact tensor shapes of real ones, for `llcuda bench`
// (docs/bench.md). Decode and prefill speed depend on shapes and weight types, not on the values,
// so a file of random weights in the right shape and types benches like the real model.
//
//   llcuda::write_bench_model("llama3-8b-q4_k_m.gguf", {.shape = "llama3-8b", .type = "Q4_K_M"});
//
// Data is written directly in the target format (random quants, scale fields in a realistic
// range, never NaN or inf), streamed to a temporary file and renamed, so an 8B file takes seconds.
// Per-tensor types follow `llcuda quantize`'s preset rules, so a Q4_K_M bench file has the same
// tensor types as a real Q4_K_M file of that model.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "llcuda/ggml_type.h"

namespace llcuda {

// One model shape (architecture `llama`).
struct BenchShape {
    std::string name;          // "llama3-8b", "llama3.2-1b", "tiny"
    std::string description;   // "Llama-3-8B", ...
    uint32_t n_layer = 0;
    uint32_t n_embd = 0;
    uint32_t n_ff = 0;
    uint32_t n_head = 0;
    uint32_t n_head_kv = 0;
    uint32_t head_dim = 0;
    uint32_t n_vocab = 0;
    uint32_t n_special = 0;    // control tokens at the end of the vocabulary (Llama 3: 256)
    uint32_t n_ctx_train = 0;
    float rope_base = 10000.0f;
    bool tied_embeddings = false;  // true: no output.weight, the embedding table is the LM head
};

// The shapes `make-bench-model` knows; bench_shape() throws InvalidArgument naming them.
const std::vector<BenchShape>& bench_shapes();
const BenchShape& bench_shape(std::string_view name);

// One tensor of a bench model, with the type it is written in.
struct BenchTensor {
    std::string name;
    uint32_t n_dims = 0;
    std::array<uint64_t, 4> ne{1, 1, 1, 1};
    GgmlType type = GgmlType::F32;
    uint64_t n_bytes = 0;
};

// The tensors of `shape` written as `type`, in file order. `type` is an `llcuda quantize` preset
// ("Q4_K_M", "Q8_0", "F16", ...; per-tensor types by the preset's mix rules) or, failing that, a
// ggml type name given to every matrix ("IQ2_XS"); norms stay F32. Throws InvalidArgument for an
// unknown name and Unsupported for a type the random writer cannot fill.
std::vector<BenchTensor> plan_bench_model(const BenchShape& shape, std::string_view type);

struct BenchModelOptions {
    std::string shape = "llama3-8b";
    std::string type = "Q4_K_M";
    uint64_t seed = 1;        // same seed, same bytes (independent of the thread count)
    unsigned n_threads = 0;   // 0: all hardware threads
};

struct BenchModelReport {
    uint64_t file_bytes = 0;
    uint64_t tensor_bytes = 0;   // sum of tensor data (what llama-bench calls the model size)
    uint64_t n_parameters = 0;
    size_t n_tensors = 0;
    double seconds = 0;
};

// Writes the model to `path` atomically (temporary name, then rename).
BenchModelReport write_bench_model(const std::filesystem::path& path, const BenchModelOptions& options);

}  // namespace llcuda
