// Streaming chat replies on the public engine API (chat_stream.h).
#include "chat_stream.h"

namespace llcuda::cli {

ChatPrompt render_chat_prompt(const InferenceEngine& engine, const std::vector<ChatMessage>& messages) {
    ChatPrompt p;
    p.text = engine.apply_chat_template(messages, true);
    const auto with = engine.tokenize(p.text, true);
    const auto without = engine.tokenize(p.text, false);
    // engine.chat(): without the tokenizer's BOS when the rendered text starts with the BOS token.
    const bool adds_bos = with.size() > without.size() && !with.empty();
    const bool has_bos_text = adds_bos && !without.empty() && without.front() == with.front();
    const auto& wanted = has_bos_text ? without : with;
    p.n_tokens = wanted.size();
    if (!has_bos_text) return p;
    const std::string bos_text = engine.detokenize({with.front()});
    if (!bos_text.empty() && p.text.rfind(bos_text, 0) == 0) {
        std::string rest = p.text.substr(bos_text.size());
        if (engine.tokenize(rest, true) == wanted) {
            p.text = std::move(rest);
            return p;
        }
    }
    p.streamable = false;
    return p;
}

InferenceResult chat_streamed(InferenceEngine& engine, const std::vector<ChatMessage>& messages,
                              const SamplingParams& params, const StreamCallback& callback) {
    const ChatPrompt p = render_chat_prompt(engine, messages);
    if (p.streamable) return engine.infer_stream(p.text, params, callback);
    InferenceResult r = engine.chat(messages, params);  // the same reply, printed whole
    callback(r.text);
    return r;
}

}  // namespace llcuda::cli
