// Converting Hugging Face checkpoints to GGUF (`llcuda convert`) and merging PEFT LoRA adapters
// (`llcuda export`). docs/convert.md describes the rules;
// docs/checkpoint-formats.md the file formats.
//
//   llcuda::ConvertOptions o;  o.out_type = "Q8_0";
//   llcuda::convert_hf_to_gguf("Qwen3-0.6B/", "qwen3.gguf", o);
//
// Tensors are streamed one at a time from the memory-mapped safetensors files into the GGUF writer,
// so peak memory is about one tensor in float32. The output is written atomically (temporary file
// + rename): on any error nothing is left at the destination. Bad input raises llcuda::Error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace llcuda {

struct ConvertOptions {
    // Output type: "F32", "F16", "BF16", "Q8_0", a llama-quantize preset ("Q4_K_M", "Q6_K", ...),
    // or "auto" (BF16 when the source has bf16 weights, else F16, like convert_hf_to_gguf.py).
    std::string out_type = "auto";
    unsigned n_threads = 0;  // quantization threads; 0: all cores
    // Called once per output tensor before it is written: (index, count, gguf name).
    std::function<void(size_t, size_t, const std::string&)> progress;
};

// One output tensor as planned by the converter (for tools and tests).
struct ConvertedTensor {
    std::string name;               // GGUF name, e.g. "blk.0.attn_q.weight"
    std::vector<uint64_t> ne;       // ggml order (ne[0] innermost)
    std::string type;               // ggml type name
};

struct ConvertReport {
    std::string architecture;       // general.architecture written
    std::vector<ConvertedTensor> tensors;
    uint64_t n_merged_lora = 0;     // export: number of base tensors a LoRA delta was added to
};

// HF model directory (config.json, *.safetensors, tokenizer.json, ...) -> GGUF file.
ConvertReport convert_hf_to_gguf(const std::filesystem::path& hf_dir, const std::filesystem::path& output,
                                 const ConvertOptions& options = {});

struct ExportOptions : ConvertOptions {
    // Write a llama.cpp LoRA GGUF (`<name>.lora_a` / `.lora_b`, adapter.* keys) instead of a merged
    // model. Needs an HF base (the architecture and Q/K permutation come from its config).
    bool lora_only = false;
};

// Merge a PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors) into a base given as
// an HF directory or a GGUF file: W += scale * B * A in float32, then convert/quantize.
// For a GGUF base, `out_type` "auto" keeps each tensor's type.
ConvertReport export_lora(const std::filesystem::path& base, const std::filesystem::path& adapter_dir,
                          const std::filesystem::path& output, const ExportOptions& options = {});

}  // namespace llcuda
