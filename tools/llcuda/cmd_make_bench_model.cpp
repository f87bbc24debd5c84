// llcuda make-bench-model --shape llama3-8b|llama3.2-1b|tiny [--type Q4_K_M] [--seed N] [-t N] -o FILE.gguf
// Writes a random-weight GGUF with the exact shapes of a real model, directly in the target types
// (docs/bench.md). Speed does not depend on the weight values, so `llcuda bench` (or llama-bench)
// on this file measures what the real model would give.
#include <fmt/format.h>

#include "bench_format.h"
#include "commands.h"
#include "llcuda/bench_model.h"

namespace llcuda::cli {
namespace {

struct MakeBenchOptions {
    BenchModelOptions model;
    std::string output;
};

}  // namespace

void register_make_bench_model(CLI::App& app, CommandSlot& slot) {
    auto o = std::make_shared<MakeBenchOptions>();
    slot.app = app.add_subcommand("make-bench-model", "Write a random-weight GGUF with the shapes of a real model");
    std::string shapes;
    for (const auto& s : bench_shapes()) shapes += (shapes.empty() ? "" : ", ") + s.name;
    slot.app->add_option("--shape", o->model.shape, "Model shape: " + shapes)->capture_default_str();
    slot.app->add_option("--type", o->model.type,
                         "Quantize preset (Q4_K_M, Q8_0, Q4_0, F16, ...) or a ggml type for every matrix")
        ->capture_default_str();
    slot.app->add_option("--seed", o->model.seed, "Random seed (same seed, same file)")->capture_default_str();
    slot.app->add_option("-t,--threads", o->model.n_threads, "Worker threads (default: all cores)");
    slot.app->add_option("-o,--output", o->output, "Destination GGUF (written atomically)")->required();
    slot.run = [o]() {
        const BenchShape& shape = bench_shape(o->model.shape);
        const BenchModelReport r = write_bench_model(o->output, o->model);
        fmt::print("{}: {} shape, {}, {} tensors, {} parameters, {} of tensor data ({} file) in {:.1f} s\n", o->output,
                   shape.description, o->model.type, r.n_tensors, format_params(r.n_parameters),
                   format_bytes(r.tensor_bytes), format_bytes(r.file_bytes), r.seconds);
        return 0;
    };
}

}  // namespace llcuda::cli
