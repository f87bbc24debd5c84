// Sizes and counts as llama-bench prints them (GiB / MiB, B / M), shared by `bench` and
// `make-bench-model`.
#pragma once

#include <cstdint>
#include <string>

#include <fmt/format.h>

namespace llcuda::cli {

inline std::string format_bytes(uint64_t bytes) {
    const double gib = double(bytes) / double(1ull << 30);
    return gib >= 1.0 ? fmt::format("{:.2f} GiB", gib) : fmt::format("{:.2f} MiB", double(bytes) / double(1ull << 20));
}

inline std::string format_params(uint64_t n) {
    return n >= 1000000000ull ? fmt::format("{:.2f} B", double(n) / 1e9) : fmt::format("{:.2f} M", double(n) / 1e6);
}

}  // namespace llcuda::cli
