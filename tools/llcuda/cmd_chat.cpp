// llcuda chat [-m MODEL] [--system TEXT]: an interactive conversation through the model's chat
// template. Reads one user message per line from stdin; an empty line or end of input quits.
#include <cstdio>
#include <iostream>

#include <fmt/format.h>

#include "commands.h"
#include "default_model.h"
#include "generation_flags.h"

namespace llcuda::cli {

namespace {
struct ChatOptions {
    GenerationFlags flags;
    std::string system;
};
}  // namespace

void register_chat(CLI::App& app, CommandSlot& slot) {
    auto o = std::make_shared<ChatOptions>();
    slot.app = app.add_subcommand("chat", "Chat with a model through its chat template (stdin: one message per line)");
    o->flags.add_to(slot.app);
    o->flags.sampling.max_tokens = 512;
    slot.app->add_option("--system", o->system, "System message");
    slot.run = [o]() {
        InferenceEngine engine;
        engine.load_model(resolve_model(o->flags.model), o->flags.load);
        std::vector<ChatMessage> messages;
        if (!o->system.empty()) messages.push_back({"system", o->system});
        const SamplingParams params = o->flags.params();
        std::string line;
        for (;;) {
            fmt::print("> ");
            std::fflush(stdout);
            if (!std::getline(std::cin, line) || line.empty()) break;
            messages.push_back({"user", line});
            const InferenceResult r = engine.chat(messages, params);
            fmt::print("{}\n", r.text);
            messages.push_back({"assistant", r.text});
        }
        fmt::print("\n");
        return 0;
    };
}

}  // namespace llcuda::cli
