// Subcommands of the llcuda program. Each lives in cmd_<name>.cpp and registers itself on the app;
// the callback it installs runs the command and returns through CommandResult.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace llcuda::cli {

// Each registration adds one subcommand; `run` is set to the code that executes it.
using CommandRunner = std::function<int()>;
struct CommandSlot {
    CLI::App* app = nullptr;
    CommandRunner run;
};

void register_inspect(CLI::App& app, CommandSlot& slot);
void register_devices(CLI::App& app, CommandSlot& slot);
void register_run(CLI::App& app, CommandSlot& slot);
void register_chat(CLI::App& app, CommandSlot& slot);
void register_perplexity(CLI::App& app, CommandSlot& slot);
void register_tokenize(CLI::App& app, CommandSlot& slot);
void register_detokenize(CLI::App& app, CommandSlot& slot);
void register_template(CLI::App& app, CommandSlot& slot);
void register_recommend(CLI::App& app, CommandSlot& slot);
void register_quantize(CLI::App& app, CommandSlot& slot);
void register_convert(CLI::App& app, CommandSlot& slot);
void register_export(CLI::App& app, CommandSlot& slot);
void register_bench(CLI::App& app, CommandSlot& slot);
void register_make_bench_model(CLI::App& app, CommandSlot& slot);
void register_serve(CLI::App& app, CommandSlot& slot);

}  // namespace llcuda::cli
