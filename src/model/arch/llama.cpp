// llama (Llama 1-3, SmolLM, Mistral converted as llama): RMSNorm, SiLU-gated MLP, GQA, adjacent-pair
// RoPE (the converter permuted q/k rows for it), optional Llama-3 rope_freqs factors.
#include "model/arch/arch.h"

namespace llcuda::arch {

void configure_llama(const GgufContents&, ModelConfig& config) {
    config.rope_style = RopeStyle::Adjacent;
    config.activation = Activation::Silu;
}

}  // namespace llcuda::arch
