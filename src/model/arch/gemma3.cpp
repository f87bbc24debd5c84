// gemma3: embeddings scaled by sqrt(n_embd), q/k norms, norms after attention and MLP as well as
// before, GELU(tanh)-gated MLP, NeoX RoPE, and sliding-window attention on five of every six layers
// with their own rope base. Norm weights already include Gemma's +1 (the converter adds it).
#include <cmath>

#include "model/arch/arch.h"

namespace llcuda::arch {

namespace {
constexpr uint32_t kSlidingWindowPattern = 6;  // every 6th layer is global (llama.cpp's default)
}

void configure_gemma3(const GgufContents& gguf, ModelConfig& config) {
    const std::string& a = config.architecture;
    config.rope_style = RopeStyle::Neox;
    config.activation = Activation::GeluTanh;
    config.has_qk_norm = true;
    config.has_post_norms = true;
    config.scale_embeddings = true;
    config.sliding_window = gguf.get_u32_or(a + ".attention.sliding_window", 0);
    config.rope_base = gguf.get_f32_or(a + ".rope.freq_base", 1000000.0f);
    config.rope_base_local = gguf.get_f32_or(a + ".rope.freq_base_swa", 10000.0f);
    config.final_logit_softcap = gguf.get_f32_or(a + ".final_logit_softcapping", 0.0f);
    for (uint32_t il = 0; il < config.n_layer; ++il) {
        config.layer_is_local[il] = config.sliding_window > 0 && (il + 1) % kSlidingWindowPattern != 0;
    }
}

}  // namespace llcuda::arch
