// llcuda inspect FILE [--json] [--all-tensors]: metadata, tensor table, totals, architecture and
// tokenizer summary of a GGUF file.
#include <cstdio>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "llcuda/gguf.h"
#include "llcuda/gguf_summary.h"

namespace llcuda::cli {

namespace {

struct InspectOptions {
    std::string path;
    bool json = false;
};

std::string shape_of(const GgufTensorInfo& t) {
    std::string s;
    for (uint32_t d = 0; d < t.n_dims; ++d) s += (d ? " x " : "") + std::to_string(t.ne[d]);
    return s;
}

std::string human_bytes(uint64_t n) {
    if (n >= (1ull << 30)) return fmt::format("{:.2f} GiB", double(n) / double(1ull << 30));
    if (n >= (1ull << 20)) return fmt::format("{:.2f} MiB", double(n) / double(1ull << 20));
    if (n >= (1ull << 10)) return fmt::format("{:.2f} KiB", double(n) / double(1ull << 10));
    return fmt::format("{} B", n);
}

void print_text(const GgufFile& file, const ModelSummary& s) {
    const GgufContents& c = file.contents();
    fmt::print("file        {}\n", file.path().string());
    fmt::print("size        {} ({} bytes)\n", human_bytes(file.file_size()), file.file_size());
    fmt::print("format      GGUF v{}, alignment {}, data at offset {}\n", c.version, c.alignment, c.data_offset);
    fmt::print("\nmodel\n");
    fmt::print("  architecture         {}\n", s.architecture.empty() ? "(none)" : s.architecture);
    if (!s.name.empty()) fmt::print("  name                 {}\n", s.name);
    if (s.file_type) fmt::print("  file type            {} ({})\n", file_type_name(*s.file_type), *s.file_type);
    for (const auto& [label, value] : s.hyperparameters) fmt::print("  {:<20} {}\n", label, value);
    fmt::print("  parameters           {} ({:.1f} M)\n", s.n_parameters, double(s.n_parameters) / 1e6);
    fmt::print("  tensor data          {} ({:.3f} bits per weight)\n", human_bytes(s.n_tensor_bytes), s.bits_per_weight);
    fmt::print("\ntokenizer\n");
    for (const auto& [label, value] : s.tokenizer) fmt::print("  {:<20} {}\n", label, value);

    fmt::print("\nmetadata ({} keys)\n", c.kvs.size());
    for (const auto& kv : c.kvs) {
        fmt::print("  {:<44} {:<7} {}\n", kv.key, gguf_type_name(kv.value.type()), describe_value(kv.value));
    }
    fmt::print("\ntensors ({})\n", c.tensors.size());
    fmt::print("  {:<40} {:<8} {:<24} {:>12}\n", "name", "type", "shape", "bytes");
    for (const auto& t : c.tensors) {
        fmt::print("  {:<40} {:<8} {:<24} {:>12}\n", t.name, ggml_type_name(t.type), shape_of(t), t.n_bytes);
    }
    fmt::print("\nby type\n");
    for (const auto& [type, totals] : s.by_type) {
        fmt::print("  {:<8} {:>5} tensors {:>14} elements {:>12}\n", type, totals.n_tensors, totals.n_elements,
                   human_bytes(totals.n_bytes));
    }
}

nlohmann::json to_json(const GgufFile& file, const ModelSummary& s) {
    const GgufContents& c = file.contents();
    nlohmann::json j;
    j["file"] = file.path().string();
    j["file_size"] = file.file_size();
    j["version"] = c.version;
    j["alignment"] = c.alignment;
    j["data_offset"] = c.data_offset;
    nlohmann::json metadata = nlohmann::json::array();
    for (const auto& kv : c.kvs) {
        metadata.push_back({{"key", kv.key}, {"type", gguf_type_name(kv.value.type())}, {"value", value_to_json(kv.value)}});
    }
    j["metadata"] = metadata;
    nlohmann::json tensors = nlohmann::json::array();
    for (const auto& t : c.tensors) {
        tensors.push_back({{"name", t.name}, {"type", ggml_type_name(t.type)},
                           {"shape", std::vector<uint64_t>(t.ne.begin(), t.ne.begin() + t.n_dims)},
                           {"offset", t.offset}, {"bytes", t.n_bytes}});
    }
    j["tensors"] = tensors;
    nlohmann::json model = {{"architecture", s.architecture}, {"name", s.name}};
    if (s.file_type) model["file_type"] = {{"id", *s.file_type}, {"name", file_type_name(*s.file_type)}};
    for (const auto& [label, value] : s.hyperparameters) model["hyperparameters"][label] = value;
    j["model"] = model;
    for (const auto& [label, value] : s.tokenizer) j["tokenizer"][label] = value;
    j["totals"] = {{"parameters", s.n_parameters}, {"tensor_bytes", s.n_tensor_bytes},
                   {"bits_per_weight", s.bits_per_weight}};
    for (const auto& [type, totals] : s.by_type) {
        j["by_type"][type] = {{"tensors", totals.n_tensors}, {"elements", totals.n_elements}, {"bytes", totals.n_bytes}};
    }
    return j;
}

}  // namespace

void register_inspect(CLI::App& app, CommandSlot& slot) {
    auto options = std::make_shared<InspectOptions>();
    slot.app = app.add_subcommand("inspect", "Show a GGUF file's metadata, tensors and totals");
    slot.app->add_option("file", options->path, "GGUF file")->required();
    slot.app->add_flag("--json", options->json, "Print one JSON document instead of text");
    slot.run = [options]() {
        const GgufFile file = GgufFile::open(options->path);
        const ModelSummary summary = summarize_model(file.contents());
        if (options->json) {
            // Metadata strings need not be valid UTF-8; replace bad bytes rather than fail.
            fmt::print("{}\n", to_json(file, summary).dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
        } else {
            print_text(file, summary);
        }
        return 0;
    };
}

}  // namespace llcuda::cli
