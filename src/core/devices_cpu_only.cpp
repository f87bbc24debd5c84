// query_gpus() for builds without the CUDA backend.
#include "llcuda/devices.h"

namespace llcuda {

GpuQuery query_gpus() {
    GpuQuery query;
    query.status = "built without CUDA (nvcc was not found at configure time)";
    return query;
}

}  // namespace llcuda
