// Tool calls in a generated reply, for the two formats chat templates ask models to write:
//   Qwen / Hermes:  <tool_call>{"name": "f", "arguments": {...}}</tool_call>  (one or more)
//   Llama 3.1+:     {"name": "f", "parameters": {...}}  (the whole reply, optionally after
//                   <|python_tag|>; several separated by ';')
// Anything else is plain content.
#pragma once

#include <string>
#include <vector>

namespace llcuda::server {

struct ToolCall {
    std::string name;
    std::string arguments;  // JSON text, as OpenAI sends it
};

struct ParsedReply {
    std::string content;          // text outside the calls (trimmed); all of it when there are none
    std::vector<ToolCall> calls;
};

ParsedReply parse_tool_calls(const std::string& text);

}  // namespace llcuda::server
