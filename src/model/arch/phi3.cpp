// phi3: fused QKV and gate/up projections, NeoX RoPE (possibly partial), SiLU.
#include <fmt/format.h>

#include "llcuda/error.h"
#include "model/arch/arch.h"

namespace llcuda::arch {

void configure_phi3(const GgufContents& gguf, ModelConfig& config) {
    config.rope_style = RopeStyle::Neox;
    config.fused_qkv = true;
    config.fused_gate_up = true;
    config.sliding_window = gguf.get_u32_or(config.architecture + ".attention.sliding_window", 0);
    for (uint32_t il = 0; il < config.n_layer; ++il) config.layer_is_local[il] = config.sliding_window > 0;
}

}  // namespace llcuda::arch
