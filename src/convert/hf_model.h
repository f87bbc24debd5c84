// An opened Hugging Face checkpoint directory: config, architecture, safetensors and the list of
// tensors the converter will write, each with its GGUF name and logical shape. Loading a tensor
// applies the per-architecture transforms in float32 (bnb dequantization, an optional LoRA delta,
// Gemma's norm +1, the llama Q/K permutation, vocabulary truncation), in HF orientation.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "convert/hf_arch.h"
#include "convert/safetensors.h"

namespace llcuda::convert {

struct SourceTensor {
    std::string hf_name;            // "model.layers.0.self_attn.q_proj.weight"
    std::string gguf_name;          // "blk.0.attn_q.weight"
    std::vector<uint64_t> shape;    // HF order (outermost first), after vocabulary truncation
    StDtype dtype = StDtype::F32;   // source element type (bnb: the original dtype)
    bool bnb4 = false;
};

struct HfModel {
    std::filesystem::path dir;
    nlohmann::json config;
    HfArch arch;
    HfShape shape;
    SafetensorsSet st;
    std::vector<SourceTensor> tensors;  // output order
    uint32_t n_vocab_out = 0;           // rows of token_embd / output after truncation
};

HfModel open_hf_model(const std::filesystem::path& dir);

// Called with the HF-orientation float32 data ([rows, cols] row-major) before the GGUF-specific
// transforms, so a LoRA delta is added to the weight exactly as PEFT sees it.
using DeltaHook = std::function<void(const SourceTensor&, std::vector<float>&)>;

// The tensor's float32 data ready for the GGUF writer (still row-major in HF order; ggml ne is the
// reversed shape).
std::vector<float> load_tensor(const HfModel& model, const SourceTensor& t, const DeltaHook& hook = {});

// Number of rotary heads the llama permutation uses for this GGUF tensor name (0: not permuted).
uint32_t permute_heads(const HfModel& model, const std::string& gguf_name);

}  // namespace llcuda::convert
