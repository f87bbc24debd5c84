// llcuda devices: the GPUs this build can use. Exits 1 when there is none (a CPU-only build, no
// driver, no device), so that scripts can test for a usable GPU; the status line says why.
#include <fmt/format.h>

#include "commands.h"
#include "llcuda/devices.h"

namespace llcuda::cli {

void register_devices(CLI::App& app, CommandSlot& slot) {
    slot.app = app.add_subcommand("devices", "List the GPUs llcuda can use (exit 1 when there is none)");
    slot.run = []() {
        const GpuQuery q = query_gpus();
        fmt::print("CUDA backend: {}\n{}\n", q.cuda_built ? "built" : "not built", q.status);
        for (const auto& d : q.devices) {
            fmt::print("  [{}] {}  sm_{}{}  {} SMs  {:.1f} GiB ({:.1f} GiB free)\n", d.index, d.name, d.compute_major,
                       d.compute_minor, d.n_multiprocessors, double(d.total_memory) / (1ull << 30),
                       double(d.free_memory) / (1ull << 30));
        }
        if (q.devices.empty()) {
            fmt::print(stderr, "llcuda devices: no usable GPU ({}); models run on the CPU\n", q.status);
            return 1;
        }
        return 0;
    };
}

}  // namespace llcuda::cli
