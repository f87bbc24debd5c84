// llcuda._llcuda: the native half of the llcuda Python package, a thin layer over the public C++
// API (include/llcuda/). The Python package (python/llcuda/) gives it the calls users write.
#include "bindings.h"

NB_MODULE(_llcuda, m) {
    m.doc() = "Native llcuda engine (C++ public API). Use the llcuda package, not this module directly.";
    llcuda_py::bind_errors(m);
    llcuda_py::bind_types(m);
    llcuda_py::bind_engine(m);
    llcuda_py::bind_system(m);
    llcuda_py::bind_gguf(m);
    llcuda_py::bind_hub(m);
    llcuda_py::bind_quant(m);
    llcuda_py::bind_planner(m);
    llcuda_py::bind_convert(m);
}
