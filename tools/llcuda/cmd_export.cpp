// llcuda export --base (HF_DIR | BASE.gguf) --lora ADAPTER_DIR OUT.gguf [--type T] [--lora-only]
// Merges a PEFT LoRA adapter into the base (W += scale * B * A in float32, then converts or
// quantizes), or with --lora-only writes a llama.cpp LoRA GGUF. docs/convert.md.
#include <memory>
#include <string>

#include <fmt/format.h>

#include "commands.h"
#include "llcuda/convert.h"

namespace llcuda::cli {

void register_export(CLI::App& app, CommandSlot& slot) {
    struct Options {
        std::string base, lora, output, type = "auto";
        unsigned threads = 0;
        bool lora_only = false, quiet = false;
    };
    auto o = std::make_shared<Options>();
    slot.app = app.add_subcommand("export", "Merge a PEFT LoRA adapter into a model and write GGUF");
    slot.app->add_option("--base", o->base, "Base model: HF directory or GGUF file")->required();
    slot.app->add_option("--lora", o->lora, "PEFT adapter directory (adapter_config.json, adapter_model.safetensors)")->required();
    slot.app->add_option("output", o->output, "Destination GGUF (written atomically)")->required();
    slot.app->add_option("--type,--outtype", o->type,
                         "auto (HF base: BF16/F16; GGUF base: keep types), F32, F16, BF16, Q8_0, Q4_K_M, ...");
    slot.app->add_option("--threads,-t", o->threads, "Quantization threads (default: all cores)");
    slot.app->add_flag("--lora-only", o->lora_only, "Write a llama.cpp LoRA adapter GGUF instead of merging");
    slot.app->add_flag("--quiet,-q", o->quiet, "No progress output");
    slot.run = [o]() {
        ExportOptions options;
        options.out_type = o->type;
        options.n_threads = o->threads;
        options.lora_only = o->lora_only;
        if (!o->quiet)
            options.progress = [](size_t i, size_t n, const std::string& what) {
                fmt::print(stderr, "[{:4}/{:4}] {}\n", i + 1, n, what);
            };
        const ConvertReport r = export_lora(o->base, o->lora, o->output, options);
        fmt::print(stderr, "wrote {} ({}, {} tensors, LoRA applied to {})\n", o->output, r.architecture, r.tensors.size(),
                   r.n_merged_lora);
        return 0;
    };
}

}  // namespace llcuda::cli
