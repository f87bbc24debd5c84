// Machine-level facts: the GPUs this build can use (llcuda/devices.h) and the model cache location
// (llcuda/model_cache.h). Nothing here touches the network.
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "llcuda/devices.h"
#include "llcuda/model_cache.h"

namespace llcuda_py {

void bind_system(nb::module_& m) {
    using llcuda::GpuDevice;
    nb::class_<GpuDevice>(m, "GpuDevice", "One GPU llcuda can use.")
        .def_ro("index", &GpuDevice::index, "CUDA device index.")
        .def_ro("name", &GpuDevice::name, "Device name, e.g. \"Tesla T4\".")
        .def_ro("compute_major", &GpuDevice::compute_major, "Compute capability, major (7 for 7.5).")
        .def_ro("compute_minor", &GpuDevice::compute_minor, "Compute capability, minor.")
        .def_ro("n_multiprocessors", &GpuDevice::n_multiprocessors, "Streaming multiprocessors.")
        .def_ro("total_memory", &GpuDevice::total_memory, "Bytes.")
        .def_ro("free_memory", &GpuDevice::free_memory, "Bytes, at query time.");
    using llcuda::GpuQuery;
    nb::class_<GpuQuery>(m, "GpuQuery", "The answer of query_gpus().")
        .def_ro("cuda_built", &GpuQuery::cuda_built, "Whether this build has the CUDA backend.")
        .def_ro("status", &GpuQuery::status, "'2 CUDA devices', 'built without CUDA', the driver's error ...")
        .def_ro("devices", &GpuQuery::devices, "The usable devices (empty when none).");
    m.def("query_gpus", &llcuda::query_gpus, nb::call_guard<nb::gil_scoped_release>(),
          "The GPUs this build can use (none, with a status saying why, without CUDA or a driver).");
    m.def("model_cache_dir", &llcuda::model_cache_dir,
          "Where llcuda keeps models: $LLCUDA_MODEL_CACHE, else ~/.cache/llcuda/models.");
    m.def("default_model_path", &llcuda::default_model_path, "The built-in default model's path in the cache.");
    m.def("cuda_built", [] {
#ifdef LLCUDA_HAVE_CUDA
        return true;
#else
        return false;
#endif
    }, "Whether this build has the CUDA backend (a usable GPU may still be absent: see query_gpus).");
    m.attr("__version__") = LLCUDA_VERSION;
}

}  // namespace llcuda_py
