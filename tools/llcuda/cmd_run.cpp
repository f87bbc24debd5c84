// llcuda run [-m MODEL] [-p PROMPT | -f FILE] [--chat | -cnv] [flags]: generate text from a prompt,
// streamed to stdout as it is produced. Flags follow llama-cli's names (docs/cli.md).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include <fmt/format.h>
#include <unistd.h>

#include "chat_session.h"
#include "chat_stream.h"
#include "commands.h"
#include "generation_setup.h"
#include "interrupt.h"
#include "llcuda/error.h"
#include "read_file.h"
#include "llcuda/tokenizer.h"
#include "text_input.h"

namespace llcuda::cli {

namespace {

constexpr const char* kDefaultPrompt = "Once upon a time";
constexpr size_t kLongPrompt = 256;  // prompts of at least this many tokens get a progress line

struct RunOptions {
    GenerationFlags flags;
    std::string prompt = kDefaultPrompt;
    std::string prompt_file;
    bool chat = false;
};

// While a long prompt is processed: one line saying so, then (on a terminal) the seconds elapsed,
// until the first generated piece arrives.
class PromptProgress {
public:
    PromptProgress(size_t n_tokens, bool show) : show_(show && n_tokens >= kLongPrompt) {
        if (!show_) return;
        fmt::print(stderr, "llcuda: processing the prompt ({} tokens)...\n", n_tokens);
        if (!isatty(STDERR_FILENO)) return;
        ticker_ = std::thread([this] {
            const auto start = std::chrono::steady_clock::now();
            while (!done_.load()) {
                std::this_thread::sleep_for(std::chrono::milliseconds(200));
                if (done_.load()) break;
                const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                fmt::print(stderr, "\r  {:.0f} s", s);
                ticked_ = true;
            }
        });
    }
    void finish() {
        if (done_.exchange(true)) return;
        if (ticker_.joinable()) ticker_.join();
        if (ticked_) fmt::print(stderr, "\r\033[K");
    }
    ~PromptProgress() { finish(); }

private:
    bool show_;
    std::atomic<bool> done_{false};
    bool ticked_ = false;
    std::thread ticker_;
};

void print_prompt_tokens(InferenceEngine& engine, const std::string& prompt, bool add_special) {
    const auto ids = engine.tokenize(prompt, add_special);
    fmt::print(stderr, "prompt: {} tokens\n", ids.size());
    for (int32_t id : ids) fmt::print(stderr, "{:>8} -> '{}'\n", id, engine.detokenize({id}));
}

}  // namespace

void register_run(CLI::App& app, CommandSlot& slot) {
    auto o = std::make_shared<RunOptions>();
    slot.app = app.add_subcommand("run", "Generate text from a prompt, streamed to stdout");
    o->flags.add_to(slot.app, SamplingParams{}.max_tokens);
    auto* prompt = slot.app->add_option("-p,--prompt", o->prompt, "Prompt text")->capture_default_str();
    auto* file = slot.app->add_option("-f,--file", o->prompt_file, "Read the prompt from a file");
    prompt->excludes(file);
    slot.app->add_flag("--chat", o->chat, "Wrap the prompt as one user message in the model's chat template");
    slot.run = [o, prompt]() {
        const GenerationFlags& f = o->flags;
        if (o->chat && f.conversation) throw Error(ErrorKind::InvalidArgument, "give --chat (one reply) or -cnv, not both");
        std::string text = o->prompt_file.empty() ? f.user_text(o->prompt) : read_file(o->prompt_file);
        if (const auto bad = first_invalid_utf8(text)) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("the prompt {} is not valid UTF-8 (byte 0x{:02x} at offset {})", quote_user_text(text),
                                    uint8_t(text[*bad]), *bad));
        }
        LoadedModel m;
        load_for_generation(f, m);
        if (f.conversation) {  // llama-cli's -i / -cnv: -p is the first user message
            ChatSessionOptions c;
            c.system = f.user_text(f.system_prompt);
            if (prompt->count() > 0 || !o->prompt_file.empty()) c.first_message = text;
            return run_chat_session(m.engine, m.n_ctx, m.flags.params, c);
        }
        InterruptScope interrupts;  // Ctrl-C stops the generation; the statistics still print
        const SamplingParams& params = m.flags.params;
        InferenceResult r;
        set_generating(true);
        if (o->chat) {
            std::vector<ChatMessage> messages;
            if (!f.system_prompt.empty()) messages.push_back({"system", f.user_text(f.system_prompt)});
            messages.push_back({"user", text});
            const ChatPrompt rendered = render_chat_prompt(m.engine, messages);
            if (f.verbose_prompt) print_prompt_tokens(m.engine, rendered.text, true);
            PromptProgress progress(rendered.n_tokens, !f.quiet);
            r = chat_streamed(m.engine, messages, params, [&](std::string_view piece) {
                progress.finish();
                return print_piece(piece);
            });
        } else {
            if (f.verbose_prompt) print_prompt_tokens(m.engine, text, true);
            PromptProgress progress(m.engine.tokenize(text, true).size(), !f.quiet);
            print_piece(text);
            r = m.engine.infer_stream(text, params, [&](std::string_view piece) {
                progress.finish();
                return print_piece(piece);
            });
        }
        set_generating(false);
        fmt::print("\n");
        std::fflush(stdout);
        if (!f.quiet) fmt::print(stderr, "{}\n", stats_line(m.engine.model_info().backend, r, params));
        return 0;
    };
}

}  // namespace llcuda::cli
