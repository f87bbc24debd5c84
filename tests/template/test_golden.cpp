// Byte-for-byte comparison with jinja2: real chat templates over conversations, and small
// snippets exercising one construct each. Expected outputs come from tests/oracles/template_golden.py.
#include <gtest/gtest.h>

#include <fstream>

#include "golden_util.h"
#include "llcuda/chat_template.h"
#include "llcuda/error.h"

namespace llcuda::test {
namespace {

// jinja2 error text for raise_exception is "TemplateError: <message>"; ours must carry <message>.
void expect_error_matches(const std::string& ours, const std::string& theirs) {
    const std::string prefix = "TemplateError: ";
    if (theirs.rfind(prefix, 0) == 0) EXPECT_NE(ours.find(theirs.substr(prefix.size())), std::string::npos) << ours;
    EXPECT_NE(ours.find("chat template"), std::string::npos) << ours;
}

class ChatGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(ChatGolden, ByteIdenticalToJinja2) {
    auto doc = load_template_golden("chat_" + GetParam() + ".json");
    ChatTemplate tpl = ChatTemplate::parse(doc.at("template").get<std::string>());
    const auto now = golden_now(doc);
    int compared = 0, errors = 0;
    for (const auto& c : doc.at("cases")) {
        SCOPED_TRACE(c.at("name").get<std::string>());
        ChatRenderOptions opt;
        opt.tools = c.contains("tools") ? c.at("tools") : nlohmann::ordered_json(nullptr);
        opt.add_generation_prompt = c.at("add_generation_prompt").get<bool>();
        opt.extra = c.at("extra");
        opt.now = now;
        if (c.contains("expected")) {
            std::string out;
            ASSERT_NO_THROW(out = tpl.apply(c.at("messages"), opt));
            EXPECT_EQ(out, c.at("expected").get<std::string>());
            ++compared;
        } else {
            try {
                tpl.apply(c.at("messages"), opt);
                ADD_FAILURE() << "jinja2 failed with " << c.at("error") << " but we rendered";
            } catch (const Error& e) {
                expect_error_matches(e.what(), c.at("error").get<std::string>());
            }
            ++errors;
        }
    }
    EXPECT_GE(compared + errors, 15);
    EXPECT_GE(compared, 10);
    std::cout << "[ template ] " << GetParam() << ": " << compared << " outputs byte-identical, " << errors
              << " errors reproduced\n";
}

INSTANTIATE_TEST_SUITE_P(Templates, ChatGolden, ::testing::Values("llama3", "qwen3", "smollm2", "gemma3"));

TEST(TemplateSnippets, ByteIdenticalToJinja2) {
    auto doc = load_template_golden("snippets.json");
    const auto now = golden_now(doc);
    int compared = 0, errors = 0;
    for (const auto& s : doc.at("snippets")) {
        const std::string name = s.at("name").get<std::string>();
        SCOPED_TRACE(name);
        if (s.contains("expected")) {
            try {
                ChatTemplate tpl = ChatTemplate::parse(s.at("template").get<std::string>());
                EXPECT_EQ(tpl.render(s.at("vars"), {}, now), s.at("expected").get<std::string>()) << s.at("template");
            } catch (const Error& e) {
                ADD_FAILURE() << "unexpected error: " << e.what() << "\n template: " << s.at("template");
            }
            ++compared;
        } else {
            try {
                ChatTemplate tpl = ChatTemplate::parse(s.at("template").get<std::string>());
                std::string out = tpl.render(s.at("vars"), {}, now);
                ADD_FAILURE() << "jinja2 failed with " << s.at("error") << " but we rendered '" << out << "'";
            } catch (const Error& e) {
                expect_error_matches(e.what(), s.at("error").get<std::string>());
                if (s.contains("error_line"))  // syntax errors: same line as jinja2
                    EXPECT_NE(std::string(e.what()).find("line " + std::to_string(s.at("error_line").get<int>()) + ","),
                              std::string::npos)
                        << e.what();
            }
            ++errors;
        }
    }
    EXPECT_GE(compared, 60);
    std::cout << "[ template ] snippets: " << compared << " outputs byte-identical, " << errors << " errors reproduced\n";
}

// The golden files store the template text; check it is still what the tokenizer files ship.
TEST(TemplateSources, GoldenTemplatesMatchTokenizerConfigs) {
    for (auto [golden, folder] : {std::pair{"chat_llama3.json", "llama3-instruct"}, std::pair{"chat_qwen3.json", "qwen3"}}) {
        auto path = test_data_dir() / "tokenizers" / folder / "tokenizer_config.json";
        LLCUDA_REQUIRE_TEST_DATA(path);
        std::ifstream f(path);
        auto cfg = nlohmann::json::parse(f);
        EXPECT_EQ(cfg.at("chat_template").get<std::string>(), load_template_golden(golden).at("template").get<std::string>());
    }
}

}  // namespace
}  // namespace llcuda::test
