// The two export variants besides "merge into an HF base": merging into a GGUF base, and writing a
// llama.cpp LoRA GGUF (docs/checkpoint-formats.md §llama.cpp LoRA GGUF).
#pragma once

#include <filesystem>

#include "convert/hf_model.h"
#include "convert/lora.h"
#include "llcuda/convert.h"

namespace llcuda::convert {

// Dequantize each targeted GGUF tensor, add the delta (B rows permuted for llama q/k), re-encode.
ConvertReport export_merged_gguf_base(const std::filesystem::path& base_gguf, const LoraAdapter& adapter,
                                      const std::filesystem::path& output, const ExportOptions& options);

// `<gguf name>.lora_a` / `.lora_b` tensors plus adapter.* keys.
ConvertReport export_lora_gguf(const HfModel& base, const LoraAdapter& adapter, const std::filesystem::path& output,
                               const ExportOptions& options);

}  // namespace llcuda::convert
