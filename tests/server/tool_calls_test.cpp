// The tool-call parser of `llcuda serve` (tools/llcuda/server/tool_calls.h) on replies written the
// way the Qwen/Hermes and Llama 3.1 chat templates instruct models to call tools.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tool_calls.h"

namespace llcuda::server {
namespace {

nlohmann::json args(const ToolCall& c) { return nlohmann::json::parse(c.arguments); }

TEST(ToolCalls, HermesTagsWithTextAround) {
    const auto r = parse_tool_calls(
        "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n"
        "<tool_call>{\"name\": \"get_time\", \"arguments\": {}}</tool_call>");
    ASSERT_EQ(r.calls.size(), 2u);
    EXPECT_EQ(r.calls[0].name, "get_weather");
    EXPECT_EQ(args(r.calls[0]), nlohmann::json({{"city", "Paris"}}));
    EXPECT_EQ(r.calls[1].name, "get_time");
    EXPECT_EQ(r.content, "Let me check.");
}

TEST(ToolCalls, HermesUnclosedLastCallAtTheTokenLimit) {
    const auto r = parse_tool_calls("<tool_call>{\"name\": \"f\", \"arguments\": {\"x\": 1}}");
    ASSERT_EQ(r.calls.size(), 1u);
    EXPECT_EQ(args(r.calls[0]), nlohmann::json({{"x", 1}}));
}

TEST(ToolCalls, Llama3JsonWithParametersAndPythonTag) {
    auto r = parse_tool_calls("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}");
    ASSERT_EQ(r.calls.size(), 1u);
    EXPECT_EQ(r.calls[0].name, "get_weather");
    EXPECT_EQ(args(r.calls[0]), nlohmann::json({{"city", "Oslo"}}));
    EXPECT_EQ(r.content, "");
    r = parse_tool_calls("<|python_tag|>{\"name\": \"a\", \"parameters\": {}}; {\"name\": \"b\", \"parameters\": {\"k\": \"v\"}}");
    ASSERT_EQ(r.calls.size(), 2u);
    EXPECT_EQ(r.calls[1].name, "b");
    EXPECT_EQ(args(r.calls[1]), nlohmann::json({{"k", "v"}}));
}

TEST(ToolCalls, PlainTextAndBrokenCallsStayContent) {
    for (const std::string text : {"The weather is nice.", "{\"not\": \"a call\"}", "<tool_call>{broken json</tool_call>",
                                   "{\"name\": \"f\", \"parameters\": {}} and then some text"}) {
        const auto r = parse_tool_calls(text);
        EXPECT_TRUE(r.calls.empty()) << text;
        EXPECT_EQ(r.content, text);
    }
}

}  // namespace
}  // namespace llcuda::server
