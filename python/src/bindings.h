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

}  // namespace llcuda_py
