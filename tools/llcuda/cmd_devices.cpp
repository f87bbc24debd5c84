// llcuda devices: the GPUs this build can use.
#include <fmt/format.h>

#include "commands.h"
#include "llcuda/devices.h"

namespace llcuda::cli {

void register_devices(CLI::App& app, CommandSlot& slot) {
    slot.app = app.add_subcommand("devices", "List the GPUs llcuda can use");
    slot.run = []() {
        const GpuQuery q = query_gpus();
        fmt::print("CUDA backend: {}\n{}\n", q.cuda_built ? "built" : "not built", q.status);
        for (const auto& d : q.devices) {
            fmt::print("  [{}] {}  sm_{}{}  {} SMs  {:.1f} GiB ({:.1f} GiB free)\n", d.index, d.name, d.compute_major,
                       d.compute_minor, d.n_multiprocessors, double(d.total_memory) / (1ull << 30),
                       double(d.free_memory) / (1ull << 30));
        }
        return 0;
    };
}

}  // namespace llcuda::cli
