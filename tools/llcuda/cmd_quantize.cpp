// llcuda quantize IN.gguf OUT.gguf TYPE [--threads N] [--pure] [--output-type T]
//                 [--token-embedding-type T] [--imatrix FILE] [--allow-requantize] [--leave-output]
//                 [--dry-run [--vram GIB] [--ctx N]]
// Re-quantizes a GGUF model with llama-quantize's presets and per-tensor mix rules (docs/quant.md).
// --dry-run writes nothing: it prints the size every preset would give and, with --vram, which
// presets fit next to the KV cache for --ctx positions, and the one it recommends.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "commands.h"
#include "llcuda/error.h"
#include "llcuda/gguf.h"
#include "llcuda/quantize.h"
#include "quant/size_plan.h"

namespace llcuda::cli {
namespace {

struct QuantizeCliOptions {
    std::string input, output, type, output_type, token_embedding_type, imatrix;
    unsigned threads = 0;
    bool pure = false, allow_requantize = false, leave_output = false, dry_run = false;
    double vram_gib = 0;
    uint32_t ctx = 4096;
};

// Footprint of every preset for this model; the recommendation when a budget is given.
int print_plan(const QuantizeCliOptions& o) {
    const GgufFile file = GgufFile::open(o.input);
    const uint64_t budget = o.vram_gib > 0 ? uint64_t(o.vram_gib * double(1ull << 30)) : UINT64_MAX;
    const uint64_t overhead = 512ull << 20;  // CUDA context + compute buffers, a rough allowance
    const auto fits = quant::fit_presets(file.contents(), budget, o.ctx, GgmlType::F16, overhead);
    const uint64_t kv = quant::kv_cache_bytes(file.contents(), o.ctx, GgmlType::F16);
    fmt::print("{:<8} {:>10} {:>6} {:>12}{}\n", "preset", "weights", "bpw", "+kv+overhead", o.vram_gib > 0 ? "  fits" : "");
    for (const auto& f : fits)
        fmt::print("{:<8} {:>8.1f}Mi {:>6.2f} {:>10.1f}Mi{}\n", f.preset.name, double(f.weight_bytes) / (1 << 20),
                   f.bits_per_weight, double(f.total_bytes) / (1 << 20), o.vram_gib > 0 ? (f.fits ? "  yes" : "  no") : "");
    fmt::print("KV cache for {} positions (f16): {:.1f} MiB; overhead allowance {} MiB\n", o.ctx,
               double(kv) / (1 << 20), overhead >> 20);
    if (o.vram_gib > 0) {
        const auto best = quant::recommend_preset(fits);
        if (best) fmt::print("recommended for {:.1f} GiB: {}\n", o.vram_gib, best->preset.name);
        else fmt::print("no preset fits in {:.1f} GiB with {} positions\n", o.vram_gib, o.ctx);
    }
    return 0;
}

std::optional<GgmlType> type_option(const std::string& name, const char* flag) {
    if (name.empty()) return std::nullopt;
    const auto type = ggml_type_from_name(name);
    if (!type) throw Error(ErrorKind::InvalidArgument, fmt::format("{}: unknown ggml type '{}'", flag, name));
    return type;
}

}  // namespace

void register_quantize(CLI::App& app, CommandSlot& slot) {
    auto o = std::make_shared<QuantizeCliOptions>();
    slot.app = app.add_subcommand("quantize", "Quantize a GGUF model (llama-quantize presets such as Q4_K_M)");
    slot.app->add_option("input", o->input, "Source GGUF (F32/F16/BF16 weights)")->required();
    slot.app->add_option("output", o->output, "Destination GGUF (written atomically)")->required();
    slot.app->add_option("type", o->type, "Preset: Q4_K_M, Q5_K_M, Q6_K, Q8_0, Q4_0, IQ4_XS, F16, ...")->required();
    slot.app->add_option("--threads,-t", o->threads, "Worker threads (default: all cores)");
    slot.app->add_flag("--pure", o->pure, "Give every quantizable tensor the preset's default type");
    slot.app->add_option("--output-type,--output-tensor-type", o->output_type, "Type for output.weight");
    slot.app->add_option("--token-embedding-type", o->token_embedding_type, "Type for token_embd.weight");
    slot.app->add_option("--imatrix", o->imatrix, "Importance matrix (GGUF or legacy .dat from llama-imatrix)");
    slot.app->add_flag("--allow-requantize", o->allow_requantize, "Accept already-quantized source tensors");
    slot.app->add_flag("--leave-output", o->leave_output, "Leave output.weight unchanged");
    slot.app->add_flag("--dry-run", o->dry_run, "Write nothing; print each preset's size (and fit, with --vram)");
    slot.app->add_option("--vram", o->vram_gib, "With --dry-run: memory budget in GiB to recommend a preset for");
    slot.app->add_option("--ctx", o->ctx, "With --dry-run: context length for the KV-cache estimate (default 4096)");
    slot.run = [o]() {
        if (o->dry_run) return print_plan(*o);
        ModelQuantizeParams p;
        p.file_type = o->type;
        p.n_threads = o->threads;
        p.pure = o->pure;
        p.allow_requantize = o->allow_requantize;
        p.leave_output = o->leave_output;
        p.output_type = type_option(o->output_type, "--output-type");
        p.token_embedding_type = type_option(o->token_embedding_type, "--token-embedding-type");
        p.imatrix = o->imatrix;
        const auto start = std::chrono::steady_clock::now();
        const auto report = quantize_model(o->input, o->output, p, [](const ModelQuantizeReport::Tensor& t) {
            fmt::print("  {:<40} {:>7} -> {:<7}{}\n", t.name, ggml_type_name(t.from), ggml_type_name(t.to),
                       t.used_imatrix ? " (imatrix)" : "");
        });
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        fmt::print("wrote {}: file type {}, {} tensors, {:.1f} MiB -> {:.1f} MiB in {:.1f} s\n", o->output,
                   report.file_type, report.tensors.size(), double(report.bytes_in) / (1 << 20),
                   double(report.bytes_out) / (1 << 20), seconds);
        return 0;
    };
}

}  // namespace llcuda::cli
