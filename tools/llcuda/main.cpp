// llcuda: one program, one subcommand per step of the workflow (see `llcuda --help`).
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands.h"
#include "hub_flags.h"
#include "llama_flag_aliases.h"
#include "llcuda/error.h"

int main(int argc, char** argv) {
    CLI::App app{"llcuda: run large language models fast on NVIDIA GPUs (and on the CPU)"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "llcuda 0.1.0");

    std::vector<llcuda::cli::CommandSlot> slots;
    auto add = [&](auto register_fn) {
        slots.emplace_back();
        register_fn(app, slots.back());
    };
    add(llcuda::cli::register_inspect);
    add(llcuda::cli::register_devices);
    add(llcuda::cli::register_run);
    add(llcuda::cli::register_chat);
    add(llcuda::cli::register_perplexity);
    add(llcuda::cli::register_tokenize);
    add(llcuda::cli::register_detokenize);
    add(llcuda::cli::register_template);
    add(llcuda::cli::register_recommend);
    add(llcuda::cli::register_quantize);
    add(llcuda::cli::register_convert);
    add(llcuda::cli::register_export);
    add(llcuda::cli::register_bench);
    add(llcuda::cli::register_make_bench_model);
    add(llcuda::cli::register_serve);

    // llama.cpp's -ngl, -cnv, -sys ... become long names first (llama_flag_aliases.h). CLI11 takes
    // the arguments without the program name, last first.
    auto args = llcuda::cli::rewrite_llama_aliases(argc, argv);
    try {
        llcuda::cli::rewrite_hub_flags(args);  // -hf/--hf-repo/--hf-file become -m (hub_flags.h)
    } catch (const std::invalid_argument& e) {
        fmt::print(stderr, "llcuda: {}\n", e.what());
        return 1;
    }
    std::vector<std::string> reversed(args.rbegin(), args.rend() - 1);
    try {
        app.parse(reversed);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    for (auto& slot : slots) {
        if (!slot.app || !slot.app->parsed()) continue;
        try {
            return slot.run();
        } catch (const llcuda::Error& e) {
            fmt::print(stderr, "llcuda {}: {}: {}\n", slot.app->get_name(), llcuda::error_kind_name(e.kind()),
                       e.what());
            return 1;
        } catch (const std::exception& e) {
            fmt::print(stderr, "llcuda {}: unexpected error: {}\n", slot.app->get_name(), e.what());
            return 2;
        }
    }
    return 0;
}
