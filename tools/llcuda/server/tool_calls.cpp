#include "tool_calls.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace llcuda::server {

namespace {

using Json = nlohmann::json;

std::string trim(std::string s) {
    const auto not_space = [](unsigned char c) { return !std::isspace(c); };
    s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
    s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
    return s;
}

// {"name": ..., "arguments" | "parameters": {...}} -> a call.
bool to_call(const Json& j, ToolCall& call) {
    if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) return false;
    call.name = j["name"];
    const char* key = j.contains("arguments") ? "arguments" : j.contains("parameters") ? "parameters" : nullptr;
    if (!key) {
        call.arguments = "{}";
    } else if (j[key].is_string()) {
        call.arguments = j[key].get<std::string>();  // already JSON text
    } else {
        call.arguments = j[key].dump();
    }
    return true;
}

bool parse_hermes(const std::string& text, ParsedReply& out) {
    static const std::string open = "<tool_call>", close = "</tool_call>";
    size_t pos = 0;
    std::string content;
    bool any = false;
    for (;;) {
        const size_t a = text.find(open, pos);
        if (a == std::string::npos) break;
        size_t b = text.find(close, a);
        const size_t body_end = b == std::string::npos ? text.size() : b;  // an unclosed last call
        ToolCall call;
        if (!to_call(Json::parse(text.substr(a + open.size(), body_end - a - open.size()), nullptr, false), call)) {
            return false;
        }
        content += text.substr(pos, a - pos);
        out.calls.push_back(std::move(call));
        any = true;
        pos = b == std::string::npos ? text.size() : b + close.size();
    }
    if (!any) return false;
    out.content = trim(content + text.substr(pos));
    return true;
}

bool parse_llama(const std::string& text, ParsedReply& out) {
    std::string t = trim(text);
    static const std::string tag = "<|python_tag|>";
    if (t.rfind(tag, 0) == 0) t = trim(t.substr(tag.size()));
    if (t.empty() || (t[0] != '{' && t[0] != '[')) return false;
    Json j = Json::parse(t, nullptr, false);
    std::vector<Json> items;
    if (!j.is_discarded()) {
        if (j.is_array()) items.assign(j.begin(), j.end());
        else items.push_back(j);
    } else {  // several calls separated by ';'
        size_t pos = 0;
        while (pos <= t.size()) {
            const size_t semi = t.find(';', pos);
            const std::string part = trim(t.substr(pos, semi == std::string::npos ? std::string::npos : semi - pos));
            if (!part.empty()) {
                Json p = Json::parse(part, nullptr, false);
                if (p.is_discarded()) return false;
                items.push_back(p);
            }
            if (semi == std::string::npos) break;
            pos = semi + 1;
        }
    }
    std::vector<ToolCall> calls;
    for (const auto& item : items) {
        ToolCall call;
        if (!to_call(item, call)) return false;
        calls.push_back(std::move(call));
    }
    if (calls.empty()) return false;
    out.calls = std::move(calls);
    out.content.clear();
    return true;
}

}  // namespace

ParsedReply parse_tool_calls(const std::string& text) {
    ParsedReply out;
    if (parse_hermes(text, out)) return out;
    out = {};
    if (parse_llama(text, out)) return out;
    return ParsedReply{text, {}};
}

}  // namespace llcuda::server
