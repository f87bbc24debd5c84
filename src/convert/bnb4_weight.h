// bitsandbytes 4-bit Linear weights as transformers saves them (docs/checkpoint-formats.md §bitsandbytes checkpoints): `P.weight` packed
// codes plus `P.weight.absmax`, `.quant_map`, `.nested_*` and `.quant_state.bitsandbytes__nf4`.
// The converter dequantizes them on load with the quant module's bnb4 decoder.
#pragma once

#include <string>
#include <vector>

#include "convert/safetensors.h"

namespace llcuda::convert {

// True for the side tensors of a bnb weight (absmax, quant_map, nested_*, quant_state.*), which
// are consumed with their weight and never converted on their own.
bool is_bnb4_side_tensor(const std::string& name);
// True when `name` is a packed bnb-4bit weight (its quant_state tensor exists).
bool is_bnb4_weight(const SafetensorsSet& set, const std::string& name);
// Logical shape [out, in] recorded in the quant state.
std::vector<uint64_t> bnb4_shape(const SafetensorsSet& set, const std::string& name);
// Dequantized weight, row-major [out, in] float32.
std::vector<float> bnb4_load(const SafetensorsSet& set, const std::string& name);

}  // namespace llcuda::convert
