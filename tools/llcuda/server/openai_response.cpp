#include "openai_response.h"

#include <algorithm>
#include <random>

#include "tool_calls.h"

namespace llcuda::server {

using Json = nlohmann::json;

const char* finish_reason_text(FinishReason reason) {
    switch (reason) {
        case FinishReason::Length: return "length";
        default: return "stop";  // end of generation, a stop string (cancelled replies are never sent)
    }
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

namespace {

Json bytes_of(const std::string& s) {
    Json b = Json::array();
    for (unsigned char c : s) b.push_back(int(c));
    return b;
}

std::string call_id() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    static const char* digits = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string id = "call_";
    for (int i = 0; i < 24; ++i) id += digits[rng() % 36];
    return id;
}

}  // namespace

Json logprobs_json(const InferenceEngine& engine, const std::vector<TokenLogprob>& lps, uint32_t top, bool chat,
                   size_t text_offset) {
    if (chat) {
        Json content = Json::array();
        for (const auto& lp : lps) {
            Json tops = Json::array();
            for (size_t i = 0; i < std::min<size_t>(top, lp.top.size()); ++i) {
                const std::string t = engine.detokenize({lp.top[i].first});
                tops.push_back({{"token", t}, {"logprob", lp.top[i].second}, {"bytes", bytes_of(t)}});
            }
            content.push_back({{"token", lp.text}, {"logprob", lp.logprob}, {"bytes", bytes_of(lp.text)},
                               {"top_logprobs", tops}});
        }
        return {{"content", content}};
    }
    Json tokens = Json::array(), token_lps = Json::array(), tops = Json::array(), offsets = Json::array();
    size_t offset = text_offset;
    for (const auto& lp : lps) {
        tokens.push_back(lp.text);
        token_lps.push_back(lp.logprob);
        offsets.push_back(offset);
        offset += lp.text.size();
        Json t = Json::object();
        for (size_t i = 0; i < std::min<size_t>(top, lp.top.size()); ++i) {
            t[engine.detokenize({lp.top[i].first})] = lp.top[i].second;
        }
        tops.push_back(top > 0 ? t : Json());
    }
    return {{"tokens", tokens}, {"token_logprobs", token_lps}, {"top_logprobs", tops}, {"text_offset", offsets}};
}

Json usage_json(const CompletionRequest& r, const std::vector<InferenceResult>& results) {
    uint64_t prompt = 0, cached = 0, completion = 0;
    for (size_t p = 0; p < r.prompts.size(); ++p) {
        prompt += r.prompts[p].size();
        uint32_t most = 0;
        for (uint32_t j = 0; j < r.n; ++j) most = std::max(most, results[p * r.n + j].n_cached_prompt_tokens);
        cached += most;
    }
    for (const auto& res : results) completion += res.n_generated_tokens;
    return {{"prompt_tokens", prompt},
            {"completion_tokens", completion},
            {"total_tokens", prompt + completion},
            {"prompt_tokens_details", {{"cached_tokens", cached}}}};
}

Json completion_json(const InferenceEngine& engine, const CompletionRequest& r, const ResponseIds& ids,
                     const std::vector<InferenceResult>& results) {
    Json choices = Json::array();
    for (size_t i = 0; i < results.size(); ++i) {
        const InferenceResult& res = results[i];
        Json lp = r.logprobs ? logprobs_json(engine, res.logprobs, r.top_logprobs, r.chat) : Json();
        if (r.chat) {
            Json message = {{"role", "assistant"}, {"content", res.text}};
            std::string finish = finish_reason_text(res.finish_reason);
            if (r.tools) {
                const ParsedReply reply = parse_tool_calls(res.text);
                if (!reply.calls.empty()) {
                    message["content"] = reply.content.empty() ? Json() : Json(reply.content);
                    message["tool_calls"] = tool_calls_json(reply, false);
                    finish = "tool_calls";
                }
            }
            choices.push_back({{"index", i}, {"message", message}, {"logprobs", lp}, {"finish_reason", finish}});
        } else {
            choices.push_back({{"index", i},
                               {"text", res.text},
                               {"logprobs", lp},
                               {"finish_reason", finish_reason_text(res.finish_reason)}});
        }
    }
    return {{"id", ids.id},
            {"object", r.chat ? "chat.completion" : "text_completion"},
            {"created", ids.created},
            {"model", ids.model},
            {"system_fingerprint", "llcuda"},
            {"choices", choices},
            {"usage", usage_json(r, results)}};
}

Json chunk_json(const CompletionRequest& r, const ResponseIds& ids, Json choice) {
    Json j = {{"id", ids.id},
              {"object", r.chat ? "chat.completion.chunk" : "text_completion"},
              {"created", ids.created},
              {"model", ids.model},
              {"system_fingerprint", "llcuda"},
              {"choices", choice.is_null() ? Json::array() : Json::array({choice})}};
    if (r.include_usage) j["usage"] = nullptr;
    return j;
}

Json tool_calls_json(const ParsedReply& reply, bool with_index) {
    Json calls = Json::array();
    for (size_t i = 0; i < reply.calls.size(); ++i) {
        Json c = {{"id", call_id()},
                  {"type", "function"},
                  {"function", {{"name", reply.calls[i].name}, {"arguments", reply.calls[i].arguments}}}};
        if (with_index) c["index"] = i;
        calls.push_back(c);
    }
    return calls;
}

}  // namespace llcuda::server
