// llcuda run [-m MODEL] [-p PROMPT | -f FILE] [sampling flags]: stream generated text to stdout.
#include <cstdio>

#include <fmt/format.h>

#include "commands.h"
#include "read_file.h"
#include "default_model.h"
#include "generation_flags.h"
#include "llcuda/error.h"

namespace llcuda::cli {

namespace {
struct RunOptions {
    GenerationFlags flags;
    std::string prompt = "Once upon a time";
    std::string prompt_file;
    bool chat = false;
    bool quiet = false;
};
}  // namespace

void register_run(CLI::App& app, CommandSlot& slot) {
    auto o = std::make_shared<RunOptions>();
    slot.app = app.add_subcommand("run", "Generate text from a prompt, streamed to stdout");
    o->flags.add_to(slot.app);
    slot.app->add_option("-p,--prompt", o->prompt, "Prompt text")->capture_default_str();
    slot.app->add_option("-f,--file", o->prompt_file, "Read the prompt from a file");
    slot.app->add_flag("--chat", o->chat, "Wrap the prompt as one user message in the model's chat template");
    slot.app->add_flag("-q,--quiet", o->quiet, "Do not print timing to stderr");
    slot.run = [o]() {
        std::string prompt = o->prompt;
        if (!o->prompt_file.empty()) prompt = read_file(o->prompt_file);
        InferenceEngine engine;
        engine.load_model(resolve_model(o->flags.model), o->flags.load);
        const SamplingParams params = o->flags.params();
        InferenceResult r;
        if (o->chat) {
            r = engine.chat({{"user", prompt}}, params);
            fmt::print("{}", r.text);
        } else {
            fmt::print("{}", prompt);
            std::fflush(stdout);
            r = engine.infer_stream(prompt, params, [](std::string_view piece) {
                fmt::print("{}", piece);
                std::fflush(stdout);
                return true;
            });
        }
        fmt::print("\n");
        if (!o->quiet) {
            fmt::print(stderr, "[{}: {} prompt tokens in {:.0f} ms, {} generated at {:.1f} tok/s, finish: {}]\n",
                       engine.model_info().backend, r.n_prompt_tokens, r.prompt_ms, r.n_generated_tokens,
                       r.tokens_per_sec, finish_reason_name(r.finish_reason));
        }
        return 0;
    };
}

}  // namespace llcuda::cli
