// Quantization: ggml block formats to and from float32, and bitsandbytes NF4/FP4.
//
// Every ggml type a GGUF file can hold can be dequantized; a subset can be produced (see
// can_quantize). Buffers are rows of `n_per_row` elements; a row is a whole number of blocks
// (ggml_type_info(type).block_size) and occupies ggml_row_bytes(type, n_per_row) bytes.
// Results are deterministic: they do not depend on the thread count. docs/quant.md has the rules.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "llcuda/ggml_type.h"

namespace llcuda {

bool can_dequantize(GgmlType type);
bool can_quantize(GgmlType type);
// True when quantize() reads the importance matrix for this type (others ignore it).
bool quantize_uses_imatrix(GgmlType type);

// Decodes src (a whole number of blocks of `type`) into dst (exactly the element count).
// Throws llcuda::Error (InvalidArgument on size mismatch, Unsupported for unknown types).
void dequantize(GgmlType type, std::span<const uint8_t> src, std::span<float> dst);

struct QuantizeOptions {
    // Importance matrix: empty, or one non-negative weight per column (n_per_row values),
    // the same for every row (llama.cpp's imatrix, in_sum2 / count).
    std::span<const float> imatrix;
    unsigned n_threads = 0;  // 0: std::thread::hardware_concurrency()
};

// Quantizes src (n_rows x n_per_row floats, row-major; n_rows = src.size() / n_per_row) into dst
// (n_rows * ggml_row_bytes(type, n_per_row) bytes). Rows are spread over threads.
void quantize(GgmlType type, std::span<const float> src, uint64_t n_per_row, std::span<uint8_t> dst,
              const QuantizeOptions& options = {});
std::vector<uint8_t> quantize(GgmlType type, std::span<const float> src, uint64_t n_per_row,
                              const QuantizeOptions& options = {});

// ---- whole models: `llcuda quantize` (llama-quantize presets, docs/quant-mixes.md) ----

struct ModelQuantizeParams {
    std::string file_type = "Q4_K_M";            // preset name ("Q4_K_M", "Q8_0", "F16", ...) or ftype id
    unsigned n_threads = 0;                      // 0: all hardware threads
    bool pure = false;                           // no per-tensor mix rules
    bool leave_output = false;                   // keep output.weight as it is
    bool allow_requantize = false;               // accept already-quantized source tensors
    std::optional<GgmlType> output_type;         // override for output.weight
    std::optional<GgmlType> token_embedding_type;  // override for token_embd.weight
    std::filesystem::path imatrix;               // importance matrix (GGUF or legacy .dat); empty: none
};

struct ModelQuantizeReport {
    struct Tensor {
        std::string name;
        GgmlType from = GgmlType::F32, to = GgmlType::F32;
        uint64_t bytes_in = 0, bytes_out = 0;
        bool used_imatrix = false;
    };
    std::vector<Tensor> tensors;  // in output order
    uint32_t file_type = 0;       // general.file_type written
    uint64_t bytes_in = 0, bytes_out = 0;
};

// Reads `input`, picks each tensor's type like llama-quantize, quantizes (rows in parallel) and
// writes `output` atomically (temporary file + rename). `progress`, if set, is called once per
// tensor before it is processed, with its name.
ModelQuantizeReport quantize_model(const std::filesystem::path& input, const std::filesystem::path& output,
                                   const ModelQuantizeParams& params,
                                   const std::function<void(const ModelQuantizeReport::Tensor&)>& progress = {});

// ---- bitsandbytes 4-bit (docs/block-formats.md §bitsandbytes NF4 and FP4) ----

enum class Bnb4Type { NF4, FP4 };

// The 16 code values of the format, float32 (index = 4-bit code).
std::span<const float> bnb4_code_values(Bnb4Type type);

// Block-wise absmax quantization of a flattened tensor, bitsandbytes-compatible.
struct Bnb4Tensor {
    Bnb4Type type = Bnb4Type::NF4;
    uint32_t blocksize = 64;       // 32, 64, ..., 4096 (power of two)
    uint64_t n_elements = 0;
    std::vector<uint8_t> packed;   // (n_elements + 1) / 2 bytes; element 2k high nibble, 2k+1 low
    std::vector<float> absmax;     // ceil(n_elements / blocksize) values (when not double-quantized)

    // Double quantization (compress_statistics): absmax_i = nested_map[absmax_codes[i]] *
    // nested_absmax[i / 256] + nested_offset.
    bool double_quant = false;
    std::vector<uint8_t> absmax_codes;
    std::vector<float> nested_absmax;  // ceil(n_blocks / 256) values
    std::vector<float> nested_map;     // 256 values: the signed dynamic map
    float nested_offset = 0.0f;
};

Bnb4Tensor bnb4_quantize(Bnb4Type type, std::span<const float> src, uint32_t blocksize, bool double_quant);
// Writes n_elements floats into dst.
void bnb4_dequantize(const Bnb4Tensor& tensor, std::span<float> dst);
// The 256-entry signed dynamic map used by double quantization (create_dynamic_map(signed=True)).
std::vector<float> bnb_dynamic_map_signed();

}  // namespace llcuda
