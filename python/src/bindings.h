// The parts of the llcuda._llcuda module, one file each (module.cpp calls them in order).
#pragma once

#include <nanobind/nanobind.h>

namespace llcuda_py {

namespace nb = nanobind;

void bind_errors(nb::module_& m);   // errors.cpp: llcuda::Error -> llcuda.errors classes
void bind_types(nb::module_& m);    // types_binding.cpp: SamplingParams, LoadOptions, results, ...
void bind_engine(nb::module_& m);   // engine_binding.cpp: Engine
void bind_system(nb::module_& m);   // system_binding.cpp: devices, model cache, version
void bind_gguf(nb::module_& m);     // gguf_binding.cpp: GgufFile (metadata, tensors as NumPy views)
void bind_hub(nb::module_& m);      // hub_binding.cpp: model names, hub downloads (llcuda/hub.h)
void bind_quant(nb::module_& m);    // quant_binding.cpp: bitsandbytes 4-bit, GGUF model quantization
void bind_planner(nb::module_& m);  // quant_plan_binding.cpp: the VRAM planner
void bind_convert(nb::module_& m);  // convert_binding.cpp: HF checkpoint -> GGUF, LoRA merge

}  // namespace llcuda_py
