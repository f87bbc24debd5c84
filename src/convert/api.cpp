// Public entry points (include/llcuda/convert.h).
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "convert/export_paths.h"
#include "convert/lora.h"
#include "convert/pipeline.h"
#include "llcuda/convert.h"
#include "llcuda/error.h"

namespace llcuda {

namespace {

// JSON files with a value of the wrong type (a null where a number belongs) surface from
// nlohmann as json::exception; report them as the input errors they are.
template <typename Fn>
auto json_errors_as_format_errors(Fn fn) {
    try {
        return fn();
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::FormatError, fmt::format("unexpected value in a JSON file: {}", e.what()));
    }
}

ConvertReport export_impl(const std::filesystem::path& base, const std::filesystem::path& adapter_dir,
                          const std::filesystem::path& output, const ExportOptions& options);

}  // namespace

ConvertReport convert_hf_to_gguf(const std::filesystem::path& hf_dir, const std::filesystem::path& output,
                                 const ConvertOptions& options) {
    return json_errors_as_format_errors([&] {
        const convert::HfModel model = convert::open_hf_model(hf_dir);
        return convert::run_conversion(model, output, options);
    });
}

ConvertReport export_lora(const std::filesystem::path& base, const std::filesystem::path& adapter_dir,
                          const std::filesystem::path& output, const ExportOptions& options) {
    return json_errors_as_format_errors([&] { return export_impl(base, adapter_dir, output, options); });
}

namespace {

ConvertReport export_impl(const std::filesystem::path& base, const std::filesystem::path& adapter_dir,
                          const std::filesystem::path& output, const ExportOptions& options) {
    const convert::LoraAdapter adapter = convert::LoraAdapter::open(adapter_dir);
    if (std::filesystem::is_regular_file(base)) {
        if (options.lora_only)
            throw Error(ErrorKind::InvalidArgument, "--lora-only needs the HF base directory (for names and permutation)");
        return convert::export_merged_gguf_base(base, adapter, output, options);
    }
    const convert::HfModel model = convert::open_hf_model(base);
    // Every adapter module must name a tensor of the base: an adapter for another model is an error.
    for (const auto& [name, m] : adapter.modules()) {
        bool found = false;
        for (const auto& t : model.tensors) found = found || t.hf_name == name;
        if (!found)
            throw Error(ErrorKind::FormatError, fmt::format("adapter module '{}' has no weight '{}' in the base model",
                                                            m.module, name));
    }
    if (options.lora_only) return convert::export_lora_gguf(model, adapter, output, options);
    uint64_t merged = 0;
    const convert::DeltaHook hook = [&](const convert::SourceTensor& t, std::vector<float>& w) {
        const auto it = adapter.modules().find(t.hf_name);
        if (it == adapter.modules().end()) return;
        adapter.merge_into(it->second, w, t.shape[0], t.shape.size() > 1 ? t.shape[1] : 1);
        ++merged;
    };
    // Shapes are checked before anything is written, so a mismatched adapter leaves no file.
    for (const auto& t : model.tensors) {
        const auto it = adapter.modules().find(t.hf_name);
        if (it == adapter.modules().end()) continue;
        const auto& m = it->second;
        uint64_t rows = m.b->shape[0], cols = m.a->shape[1];
        if (m.embedding || adapter.fan_in_fan_out()) std::swap(rows, cols);
        const uint64_t trows = t.shape[0], tcols = t.shape.size() > 1 ? t.shape[1] : 1;
        if (rows != trows || cols != tcols)
            throw Error(ErrorKind::FormatError, fmt::format("LoRA module '{}' makes a {}x{} delta but the base weight is {}x{}",
                                                            m.module, rows, cols, trows, tcols));
    }
    ConvertReport report = convert::run_conversion(model, output, options, hook);
    report.n_merged_lora = merged;
    return report;
}

}  // namespace

}  // namespace llcuda
