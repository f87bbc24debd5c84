// llcuda quantize IN.gguf OUT.gguf TYPE [--threads N] [--pure] [--output-type T]
//                 [--token-embedding-type T] [--imatrix FILE] [--allow-requantize] [--leave-output]
// llcuda quantize IN.gguf --dry-run [--vram GIB [--ctx N] [--strategy S]]
// Re-quantizes a GGUF model with llama-quantize's presets and per-tensor mix rules (docs/quant.md).
// --dry-run writes nothing: it prints the size every preset would give and, with --vram, the VRAM
// planner's answer: exactly what `llcuda recommend IN.gguf --vram GIB` prints.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "commands.h"
#include "llcuda/error.h"
#include "llcuda/ggml_type.h"
#include "llcuda/gguf_summary.h"
#include "llcuda/planner.h"
#include "llcuda/quantize.h"
#include "plan_report.h"

namespace llcuda::cli {
namespace {

struct QuantizeCliOptions {
    std::string input, output, type, output_type, token_embedding_type, imatrix;
    unsigned threads = 0;
    bool pure = false, allow_requantize = false, leave_output = false, dry_run = false;
    std::optional<double> vram_gib;
    uint32_t ctx = PlanRequest{}.context;
    std::string strategy = plan_strategy_name(PlanRequest{}.strategy);
};

// Without a budget, the planned size of every preset; with one, the planner's recommendation.
int print_plan(const QuantizeCliOptions& o) {
    if (o.vram_gib) {
        PlanRequest r;
        r.model = o.input;
        r.vram_gib = *o.vram_gib;
        r.context = o.ctx;
        r.strategy = plan_strategy_from_name(o.strategy);
        print_plan_text(plan_deployment(r), r);
        return 0;
    }
    fmt::print("{:<8} {:>11} {:>6}\n", "type", "weights", "bpw");
    for (const PresetSize& s : plan_weight_sizes(o.input)) {
        fmt::print("{:<8} {:>8.1f} MiB {:>6.2f}\n", s.type, mib(s.weight_bytes), s.bits_per_weight);
    }
    return 0;
}

std::optional<GgmlType> type_option(const std::string& name, const char* flag) {
    if (name.empty()) return std::nullopt;
    const auto type = ggml_type_from_name(name);
    if (!type) throw Error(ErrorKind::InvalidArgument, fmt::format("{}: unknown ggml type '{}'", flag, name));
    return type;
}

// An output larger than its input: the source was already quantized below what the preset gives some
// tensors (a preset names the type each tensor gets; it does not keep a smaller source type).
void explain_growth(const ModelQuantizeReport& report) {
    uint64_t grown_in = 0, grown_out = 0;
    size_t n_grown = 0;
    std::string example;
    for (const auto& t : report.tensors) {
        if (t.bytes_out <= t.bytes_in) continue;
        ++n_grown;
        grown_in += t.bytes_in;
        grown_out += t.bytes_out;
        if (example.empty()) example = fmt::format("{} {} -> {}", t.name, ggml_type_name(t.from), ggml_type_name(t.to));
    }
    fmt::print("note: the output is larger than the input: {} tensor{} (such as {}) got a type with more bits than the "
               "source already had ({:.1f} MiB -> {:.1f} MiB); the preset sets each tensor's type and cannot keep a "
               "smaller one. Quantize from an F16/BF16/F32 model, or choose a smaller preset\n",
               n_grown, n_grown == 1 ? "" : "s", example, double(grown_in) / (1 << 20), double(grown_out) / (1 << 20));
}

}  // namespace

void register_quantize(CLI::App& app, CommandSlot& slot) {
    auto o = std::make_shared<QuantizeCliOptions>();
    slot.app = app.add_subcommand("quantize", "Quantize a GGUF model (llama-quantize presets such as Q4_K_M)");
    slot.app->add_option("input", o->input, "Source GGUF (F32/F16/BF16 weights)")->required();
    slot.app->add_option("output", o->output, "Destination GGUF (written atomically; not with --dry-run)");
    slot.app->add_option("type", o->type, "Preset: Q4_K_M, Q5_K_M, Q6_K, Q8_0, Q4_0, IQ4_XS, F16, ...");
    slot.app->add_option("--threads,-t", o->threads, "Worker threads (default: all cores)");
    slot.app->add_flag("--pure", o->pure, "Give every quantizable tensor the preset's default type");
    slot.app->add_option("--output-type,--output-tensor-type", o->output_type, "Type for output.weight");
    slot.app->add_option("--token-embedding-type", o->token_embedding_type, "Type for token_embd.weight");
    slot.app->add_option("--imatrix", o->imatrix, "Importance matrix (GGUF or legacy .dat from llama-imatrix)");
    slot.app->add_flag("--allow-requantize", o->allow_requantize, "Accept already-quantized source tensors");
    slot.app->add_flag("--leave-output", o->leave_output, "Leave output.weight unchanged");
    slot.app->add_flag("--dry-run", o->dry_run, "Write nothing; print each preset's size (and fit, with --vram)");
    slot.app->add_option("--vram", o->vram_gib, "With --dry-run: GPU memory budget in GiB (as llcuda recommend)");
    slot.app->add_option("--ctx", o->ctx, "With --dry-run --vram: context per sequence")->capture_default_str();
    slot.app->add_option("--strategy", o->strategy, "With --dry-run --vram: aggressive | balanced | quality | minimal")
        ->capture_default_str();
    slot.run = [o]() {
        if (o->dry_run) return print_plan(*o);
        if (o->vram_gib) throw Error(ErrorKind::InvalidArgument, "--vram plans sizes: use it with --dry-run");
        if (o->output.empty() || o->type.empty()) {
            throw Error(ErrorKind::InvalidArgument, "give OUT.gguf and TYPE (or --dry-run to only plan sizes)");
        }
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
        fmt::print("wrote {}: file type {} ({}), {} tensors, {:.1f} MiB -> {:.1f} MiB in {:.1f} s\n", o->output,
                   file_type_name(report.file_type), report.file_type, report.tensors.size(),
                   double(report.bytes_in) / (1 << 20), double(report.bytes_out) / (1 << 20), seconds);
        if (report.bytes_out > report.bytes_in) explain_growth(report);
        return 0;
    };
}

}  // namespace llcuda::cli
