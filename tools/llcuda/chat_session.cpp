// The chat loop (chat_session.h).
#include "chat_session.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <vector>

#include <fmt/format.h>

#include "chat_stream.h"
#include "generation_setup.h"
#include "interrupt.h"
#include "line_reader.h"
#include "llcuda/error.h"
#include "llcuda/tokenizer.h"
#include "text_input.h"

namespace llcuda::cli {

namespace {

constexpr const char* kHelp =
    "commands: /exit (or /quit) ends the session, /reset clears the conversation, /system TEXT sets the "
    "system message (/system alone removes it), /help prints this; start a message with // to send a "
    "line beginning with /; Ctrl-C stops a reply, Ctrl-C at the prompt quits";

void notice(const std::string& text) { fmt::print(stderr, "llcuda chat: {}\n", text); }

class Conversation {
public:
    Conversation(InferenceEngine& engine, uint32_t n_ctx, const SamplingParams& params, std::string system)
        : engine_(engine), n_ctx_(n_ctx), params_(params), system_(std::move(system)) {}

    void reset() { turns_.clear(); }
    void set_system(std::string text) { system_ = std::move(text); }

    // One user message: checked, fitted into the context, answered (streamed to stdout).
    void answer(const std::string& message) {
        if (const auto bad = first_invalid_utf8(message)) {
            notice(fmt::format("your message {} is not valid UTF-8 (byte 0x{:02x} at offset {}); it was not sent",
                               quote_user_text(message), uint8_t(message[*bad]), *bad));
            return;
        }
        turns_.push_back({"user", message});
        try {
            if (!fit_context(message)) {
                turns_.pop_back();
                return;
            }
            set_generating(true);
            const InferenceResult r = chat_streamed(engine_, messages(), params_, print_piece);
            set_generating(false);
            fmt::print("\n");
            std::fflush(stdout);
            if (r.finish_reason == FinishReason::Cancelled) notice("reply stopped (Ctrl-C); Ctrl-C at the prompt quits");
            else if (finish_description(r, params_) == "context_full") notice("reply cut: the context is full");
            turns_.push_back({"assistant", r.text});
        } catch (const Error& e) {
            set_generating(false);
            fmt::print("\n");
            notice(fmt::format("your message {} failed: {}: {}", quote_user_text(message), error_kind_name(e.kind()),
                               e.what()));
            if (!turns_.empty() && turns_.back().role == "user") turns_.pop_back();
        }
    }

private:
    std::vector<ChatMessage> messages() const {
        std::vector<ChatMessage> m;
        if (!system_.empty()) m.push_back({"system", system_});
        m.insert(m.end(), turns_.begin(), turns_.end());
        return m;
    }

    // Drops the oldest exchanges until the conversation leaves room for a reply (at least a quarter
    // of the context or -n, the smaller). False when the new message alone cannot fit.
    bool fit_context(const std::string& message) {
        const uint32_t reserve = std::max<uint32_t>(1, std::min<uint32_t>(params_.max_tokens, n_ctx_ / 4));
        size_t dropped = 0;
        for (;;) {
            const size_t n = render_chat_prompt(engine_, messages()).n_tokens;
            if (n + reserve <= n_ctx_ || (turns_.size() == 1 && n < n_ctx_)) break;
            if (turns_.size() == 1) {
                notice(fmt::format("your message {} takes {} tokens with the template{}, but the context holds {}; "
                                   "it was not sent (shorten it or raise -c)",
                                   quote_user_text(message), n, system_.empty() ? "" : " and the system message",
                                   n_ctx_));
                return false;
            }
            // The oldest exchange: a user message and the reply that follows it.
            const size_t k = turns_.size() > 2 && turns_[1].role == "assistant" ? 2 : 1;
            turns_.erase(turns_.begin(), turns_.begin() + std::ptrdiff_t(k));
            ++dropped;
        }
        if (dropped) {
            notice(fmt::format("the conversation outgrew the context of {} tokens: dropped the {} oldest exchange{}",
                               n_ctx_, dropped, dropped == 1 ? "" : "s"));
        }
        return true;
    }

    InferenceEngine& engine_;
    uint32_t n_ctx_;
    SamplingParams params_;
    std::string system_;
    std::vector<ChatMessage> turns_;  // user and assistant messages, oldest first
};

}  // namespace

int run_chat_session(InferenceEngine& engine, uint32_t n_ctx, const SamplingParams& params,
                     const ChatSessionOptions& options) {
    InterruptScope interrupts;
    Conversation chat(engine, n_ctx, params, options.system);
    if (!options.first_message.empty()) {
        fmt::print("> {}\n", options.first_message);
        chat.answer(options.first_message);
    }
    LineReader input;
    for (;;) {
        if (quit_requested()) break;
        const std::optional<std::string> next = input.read("> ");
        if (!next || quit_requested()) break;  // end of input, or Ctrl-C at the prompt
        const std::string& line = *next;
        if (line.find_first_not_of(" \t") == std::string::npos) continue;  // empty line: prompt again
        if (line[0] == '/' && line.rfind("//", 0) != 0) {
            const auto space = line.find(' ');
            const std::string command = line.substr(0, space);
            const std::string arg = space == std::string::npos ? "" : line.substr(space + 1);
            if (command == "/exit" || command == "/quit") break;
            if (command == "/reset") {
                chat.reset();
                notice("conversation cleared");
            } else if (command == "/system") {
                chat.set_system(arg);
                notice(arg.empty() ? "system message removed" : "system message set");
            } else if (command == "/help") {
                notice(kHelp);
            } else {
                notice(fmt::format("unknown command {} (not sent to the model); /help lists the commands",
                                   quote_user_text(command)));
            }
            continue;
        }
        chat.answer(line[0] == '/' ? line.substr(1) : line);
    }
    fmt::print("\n");
    return 0;
}

}  // namespace llcuda::cli
