// The model shapes `llcuda make-bench-model` writes. The two Llama shapes are those of the
// published checkpoints (their config.json): Llama-3-8B and Llama-3.2-1B. "tiny" exists for tests.
#include <fmt/format.h>

#include "llcuda/bench_model.h"
#include "llcuda/error.h"

namespace llcuda {

const std::vector<BenchShape>& bench_shapes() {
    static const std::vector<BenchShape> shapes = [] {
        std::vector<BenchShape> s(3);
        // name, description, layers, embd, ffn, heads, kv heads, head dim, vocab, specials, ctx, rope base, tied
        s[0] = {"llama3-8b", "Llama-3-8B", 32, 4096, 14336, 32, 8, 128, 128256, 256, 8192, 500000.0f, false};
        s[1] = {"llama3.2-1b", "Llama-3.2-1B", 16, 2048, 8192, 32, 8, 64, 128256, 256, 131072, 500000.0f, true};
        // Small enough for a CPU test; dims are multiples of 256 so every K-quant applies.
        s[2] = {"tiny", "tiny Llama-3-style test model", 2, 256, 512, 4, 2, 64, 512, 16, 2048, 500000.0f, false};
        return s;
    }();
    return shapes;
}

const BenchShape& bench_shape(std::string_view name) {
    std::string known;
    for (const auto& s : bench_shapes()) {
        if (s.name == name) return s;
        known += (known.empty() ? "" : ", ") + s.name;
    }
    throw Error(ErrorKind::InvalidArgument, fmt::format("unknown bench model shape '{}' (known: {})", name, known));
}

}  // namespace llcuda
