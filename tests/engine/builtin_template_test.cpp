// The built-in Gemma template against Google's official Gemma-3 template, rendered by jinja2 (the
// chat-template golden file), on every golden conversation it is meant for: plain string contents,
// system/user/assistant roles, no tools.
#include <gtest/gtest.h>

#include "engine/builtin_templates.h"
#include "golden_json.h"
#include "llcuda/chat_template.h"
#include "llcuda/engine.h"
#include "test_paths.h"

namespace llcuda {
namespace {

bool plain_conversation(const nlohmann::json& c) {
    if (c.contains("error") || !c.contains("expected") || (c.contains("tools") && !c["tools"].is_null())) return false;
    for (const auto& m : c["messages"]) {
        const std::string role = m.value("role", "");
        if (!m.contains("content") || !m["content"].is_string() || m.size() != 2) return false;
        if (role != "system" && role != "user" && role != "assistant") return false;
    }
    return !c["messages"].empty();
}

TEST(BuiltinTemplate, GemmaMatchesTheOfficialTemplateOnPlainConversations) {
    const nlohmann::json golden = test::load_json(test::golden_dir() / "template" / "chat_gemma3.json");
    const ChatTemplate builtin = ChatTemplate::parse(*builtin_chat_template("gemma3"));
    int n = 0;
    for (const auto& c : golden["cases"]) {
        if (!plain_conversation(c)) continue;
        ChatRenderOptions o;
        o.add_generation_prompt = c.value("add_generation_prompt", false);
        if (c.contains("extra")) o.extra = nlohmann::ordered_json(c["extra"]);
        EXPECT_EQ(builtin.apply(nlohmann::ordered_json(c["messages"]), o), c["expected"].get<std::string>())
            << c.value("name", "");
        ++n;
    }
    EXPECT_GE(n, 5);
    std::printf("built-in Gemma template: %d plain conversations identical to the official one\n", n);
}

TEST(BuiltinTemplate, GemmaGgufWithoutTemplateStillChats) {
    LLCUDA_REQUIRE_FILE(test::gemma3_path());
    InferenceEngine e;
    LoadOptions o;
    o.context_length = 128;
    o.n_threads = 2;
    e.load_model(test::gemma3_path(), o);
    const std::string prompt = e.apply_chat_template({{"user", "Hi"}}, true);
    EXPECT_EQ(prompt, "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n");
    EXPECT_FALSE(builtin_chat_template("llama").has_value());
}

}  // namespace
}  // namespace llcuda
