// query_gpus() for builds without the CUDA backend.
#include "llcuda/devices.h"
#include "llcuda/error.h"

namespace llcuda {

GpuQuery query_gpus() {
    GpuQuery query;
    query.status = "built without CUDA (nvcc was not found at configure time)";
    return query;
}

DeviceCeilings measure_ceilings(int) {
    throw Error(ErrorKind::Unsupported, "no GPU ceilings: this build has no CUDA backend");
}

}  // namespace llcuda
