// qwen2: llama plus q/k/v biases, NeoX RoPE. qwen3: no biases, RMSNorm on each q and k head.
#include "model/arch/arch.h"

namespace llcuda::arch {

void configure_qwen2(const GgufContents&, ModelConfig& config) {
    config.rope_style = RopeStyle::Neox;
    config.has_qkv_bias = true;
}

void configure_qwen3(const GgufContents&, ModelConfig& config) {
    config.rope_style = RopeStyle::Neox;
    config.has_qk_norm = true;
}

}  // namespace llcuda::arch
