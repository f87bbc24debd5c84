// One architecture = one function that turns generic hyperparameters into the flags of the shared
// block. The table in model_config.cpp maps general.architecture to these functions.
#pragma once

#include "model/model_config.h"

namespace llcuda::arch {

// `config` arrives with the generic keys read ({arch}.block_count, embedding_length, ...).
void configure_llama(const GgufContents& gguf, ModelConfig& config);
void configure_qwen2(const GgufContents& gguf, ModelConfig& config);
void configure_qwen3(const GgufContents& gguf, ModelConfig& config);
void configure_gemma3(const GgufContents& gguf, ModelConfig& config);
void configure_phi3(const GgufContents& gguf, ModelConfig& config);

}  // namespace llcuda::arch
