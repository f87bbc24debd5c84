// llcuda chat [-m MODEL] [-sys TEXT] [flags]: an interactive conversation through the model's chat
// template (chat_session.h): one user message per line of standard input, replies streamed.
#include <fmt/format.h>

#include "chat_session.h"
#include "commands.h"
#include "generation_setup.h"

namespace llcuda::cli {

namespace {
constexpr int64_t kChatMaxTokens = 512;  // a reply, not a continuation: longer than run's 128
}  // namespace

void register_chat(CLI::App& app, CommandSlot& slot) {
    auto flags = std::make_shared<GenerationFlags>();
    slot.app = app.add_subcommand("chat", "Chat with a model through its chat template (stdin: one message per line; "
                                          "/help lists the commands)");
    flags->add_to(slot.app, kChatMaxTokens);
    slot.run = [flags]() {
        LoadedModel m;
        load_for_generation(*flags, m);
        ChatSessionOptions o;
        o.system = flags->user_text(flags->system_prompt);
        return run_chat_session(m.engine, m.n_ctx, m.flags.params, o);
    };
}

}  // namespace llcuda::cli
