// llcuda convert HF_DIR OUT.gguf [--type F32|F16|BF16|Q8_0|Q4_K_M|...] [--threads N] [--quiet]
// Converts a Hugging Face checkpoint (safetensors, optionally sharded or bnb-4bit) to GGUF
// (docs/convert.md). Progress goes to stderr, one line per tensor.
#include <memory>
#include <string>

#include <fmt/format.h>

#include "commands.h"
#include "llcuda/convert.h"

namespace llcuda::cli {

void register_convert(CLI::App& app, CommandSlot& slot) {
    struct Options {
        std::string input, output, type = "auto";
        unsigned threads = 0;
        bool quiet = false;
    };
    auto o = std::make_shared<Options>();
    slot.app = app.add_subcommand("convert", "Convert a Hugging Face model directory (safetensors) to GGUF");
    slot.app->add_option("hf_dir", o->input, "Directory with config.json, *.safetensors, tokenizer.json")->required();
    slot.app->add_option("output", o->output, "Destination GGUF (written atomically)")->required();
    slot.app->add_option("--type,--outtype", o->type, "auto (BF16/F16 as the source), F32, F16, BF16, Q8_0, Q4_K_M, Q6_K, ...");
    slot.app->add_option("--threads,-t", o->threads, "Quantization threads (default: all cores)");
    slot.app->add_flag("--quiet,-q", o->quiet, "No progress output");
    slot.run = [o]() {
        ConvertOptions options;
        options.out_type = o->type;
        options.n_threads = o->threads;
        if (!o->quiet)
            options.progress = [](size_t i, size_t n, const std::string& what) {
                fmt::print(stderr, "[{:4}/{:4}] {}\n", i + 1, n, what);
            };
        const ConvertReport r = convert_hf_to_gguf(o->input, o->output, options);
        fmt::print(stderr, "wrote {} ({}, {} tensors)\n", o->output, r.architecture, r.tensors.size());
        return 0;
    };
}

}  // namespace llcuda::cli
