// libFuzzer target for the chat-template parser and interpreter.
//
// The input is a template. It is parsed and, when it parses, rendered against a small chat with
// tools, under tight limits. llcuda::Error is the only acceptable failure: any crash, sanitizer
// report, other exception, hang or runaway allocation is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "llcuda/chat_template.h"
#include "llcuda/error.h"

static const nlohmann::ordered_json& messages() {
    static const auto m = nlohmann::ordered_json::parse(R"([
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "hi \u00e9 <tool_response>"},
        {"role": "assistant", "content": "<think>\nr\n</think>\n\nok", "tool_calls": [
            {"type": "function", "function": {"name": "f", "arguments": {"a": [1, 2.5, null, true]}}}]},
        {"role": "tool", "content": "{\"x\": 1}"},
        {"role": "user", "content": [{"type": "text", "text": " t "}, {"type": "image"}]}
    ])");
    return m;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view src(reinterpret_cast<const char*>(data), size);
    llcuda::ChatRenderOptions opt;
    opt.tools = nlohmann::ordered_json::parse(R"([{"type": "function", "function": {"name": "f", "parameters": {}}}])");
    opt.add_generation_prompt = size % 2 == 0;
    opt.extra = {{"bos_token", "<s>"}, {"enable_thinking", false}};
    opt.now = std::chrono::system_clock::time_point{};
    opt.limits.max_output_bytes = 1 << 20;
    opt.limits.max_string_bytes = 1 << 20;
    opt.limits.max_loop_iterations = 200000;
    opt.limits.max_call_depth = 64;
    try {
        llcuda::ChatTemplate t = llcuda::ChatTemplate::parse(src);
        (void)t.apply(messages(), opt);
    } catch (const llcuda::Error&) {
    }
    return 0;
}
