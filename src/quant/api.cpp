// Public entry points of include/llcuda/quantize.h for ggml types: argument checks, traits-table
// dispatch and the row-parallel driver.
#include <algorithm>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "llcuda/error.h"
#include "llcuda/quantize.h"
#include "quant/traits.h"

namespace llcuda {
namespace {

using quant::QuantTraits;

const QuantTraits& traits_or_throw(GgmlType type) { return quant::quant_traits(type); }

uint64_t blocks_for(const QuantTraits& t, uint64_t n_elements, const char* what) {
    if (n_elements % t.block_size != 0)
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("{}: {} elements is not a whole number of {} blocks ({} elements each)", what,
                                n_elements, ggml_type_name(t.type), t.block_size));
    return n_elements / t.block_size;
}

}  // namespace

bool can_dequantize(GgmlType type) {
    const QuantTraits* t = quant::find_quant_traits(uint32_t(type));
    return t && t->dequantize;
}

bool can_quantize(GgmlType type) {
    const QuantTraits* t = quant::find_quant_traits(uint32_t(type));
    return t && t->quantize;
}

bool quantize_uses_imatrix(GgmlType type) {
    const QuantTraits* t = quant::find_quant_traits(uint32_t(type));
    return t && t->uses_imatrix;
}

void dequantize(GgmlType type, std::span<const uint8_t> src, std::span<float> dst) {
    const QuantTraits& t = traits_or_throw(type);
    const uint64_t n_blocks = blocks_for(t, dst.size(), "dequantize");
    if (src.size() != n_blocks * t.type_size)
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("dequantize: {} elements of {} need {} bytes, got {}", dst.size(),
                                ggml_type_name(type), n_blocks * t.type_size, src.size()));
    t.dequantize(src.data(), dst.data(), int64_t(n_blocks));
}

void quantize(GgmlType type, std::span<const float> src, uint64_t n_per_row, std::span<uint8_t> dst,
              const QuantizeOptions& options) {
    const QuantTraits& t = traits_or_throw(type);
    if (!t.quantize)
        throw Error(ErrorKind::Unsupported,
                    fmt::format("quantize: producing {} is not supported", ggml_type_name(type)));
    if (n_per_row == 0 || src.size() % n_per_row != 0)
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("quantize: {} values are not a whole number of rows of {}", src.size(), n_per_row));
    const uint64_t row_bytes = blocks_for(t, n_per_row, "quantize") * t.type_size;
    const uint64_t n_rows = src.size() / n_per_row;
    if (dst.size() != n_rows * row_bytes)
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("quantize: {} rows of {} x {} need {} bytes, got {}", n_rows, n_per_row,
                                ggml_type_name(type), n_rows * row_bytes, dst.size()));
    if (!options.imatrix.empty() && options.imatrix.size() != n_per_row)
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("quantize: importance matrix has {} values, rows have {} columns",
                                options.imatrix.size(), n_per_row));
    const float* imatrix = options.imatrix.empty() ? nullptr : options.imatrix.data();
    // Block quantizers turn NaN/inf into garbage codes (float->int conversion of a non-finite
    // value is undefined), so reject them up front; the float types store them faithfully.
    if (t.block_size > 1) {
        for (size_t i = 0; i < src.size(); ++i)
            if (!std::isfinite(src[i]))
                throw Error(ErrorKind::InvalidArgument,
                            fmt::format("quantize: non-finite value {} at row {}, column {}", src[i], i / n_per_row,
                                        i % n_per_row));
        for (size_t i = 0; i < options.imatrix.size(); ++i)
            if (!std::isfinite(options.imatrix[i]) || options.imatrix[i] < 0.0f)
                throw Error(ErrorKind::InvalidArgument,
                            fmt::format("quantize: importance matrix value {} at column {} is not a finite "
                                        "non-negative number", options.imatrix[i], i));
    }

    unsigned n_threads = options.n_threads ? options.n_threads : std::max(1u, std::thread::hardware_concurrency());
    n_threads = unsigned(std::min<uint64_t>(n_threads, n_rows));
    // Each thread takes a contiguous range of rows; rows are independent, so the bytes are the
    // same for any thread count.
    auto run_rows = [&](uint64_t begin, uint64_t end) {
        for (uint64_t r = begin; r < end; ++r)
            t.quantize(src.data() + r * n_per_row, dst.data() + r * row_bytes, int64_t(n_per_row), imatrix);
    };
    if (n_threads <= 1) {
        run_rows(0, n_rows);
        return;
    }
    std::vector<std::thread> workers;
    std::vector<std::exception_ptr> errors(n_threads);
    for (unsigned w = 0; w < n_threads; ++w) {
        const uint64_t begin = n_rows * w / n_threads, end = n_rows * (w + 1) / n_threads;
        workers.emplace_back([&, w, begin, end] {
            try {
                run_rows(begin, end);
            } catch (...) {
                errors[w] = std::current_exception();
            }
        });
    }
    for (auto& worker : workers) worker.join();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
}

std::vector<uint8_t> quantize(GgmlType type, std::span<const float> src, uint64_t n_per_row,
                              const QuantizeOptions& options) {
    const QuantTraits& t = traits_or_throw(type);
    const uint64_t row_bytes = blocks_for(t, n_per_row, "quantize") * t.type_size;
    std::vector<uint8_t> out(n_per_row ? src.size() / n_per_row * row_bytes : 0);
    quantize(type, src, n_per_row, out, options);
    return out;
}

}  // namespace llcuda
