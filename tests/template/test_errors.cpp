// Errors carry the template position; hostile templates fail cleanly within the limits.
#include <gtest/gtest.h>

#include <string>

#include "llcuda/chat_template.h"
#include "llcuda/error.h"

namespace llcuda::test {
namespace {

// Parses and renders `src`; returns the error, failing the test when none is raised.
Error render_error(const std::string& src, const nlohmann::ordered_json& vars = nlohmann::ordered_json::object(),
                   const TemplateLimits& limits = {}) {
    try {
        ChatTemplate::parse(src).render(vars, limits);
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "no error for template: " << src;
    return Error(ErrorKind::Internal, "");
}

bool has(const Error& e, const std::string& text) { return std::string(e.what()).find(text) != std::string::npos; }

TEST(TemplateErrors, UnsupportedTagNamesLineAndColumn) {
    Error e = render_error("line one\n  {% include 'x.jinja' %}");
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
    EXPECT_TRUE(has(e, "line 2, column 6")) << e.what();
    EXPECT_TRUE(has(e, "include")) << e.what();

    e = render_error("{% for x in xs recursive %}{% endfor %}");
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
    EXPECT_TRUE(has(e, "line 1, column 16")) << e.what();

    e = render_error("{% extends 'base' %}");
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
    e = render_error("{{ f(*args) }}");
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
}

TEST(TemplateErrors, SyntaxErrorsNamePosition) {
    Error e = render_error("ok\n{{ 1 + }}");
    EXPECT_EQ(e.kind(), ErrorKind::FormatError);
    EXPECT_TRUE(has(e, "line 2, column 8")) << e.what();

    e = render_error("{% if x %}\nno end");
    EXPECT_EQ(e.kind(), ErrorKind::FormatError);
    EXPECT_TRUE(has(e, "endif")) << e.what();

    e = render_error("{{ 'unterminated }}");
    EXPECT_EQ(e.kind(), ErrorKind::FormatError);
    e = render_error("{# never closed");
    EXPECT_TRUE(has(e, "line 1, column 1")) << e.what();
    e = render_error("{% break %}");
    EXPECT_TRUE(has(e, "outside of a loop")) << e.what();
}

TEST(TemplateErrors, RuntimeErrorsNamePosition) {
    Error e = render_error("{% for m in messages %}\n  {{ m.role.x.y }}\n{% endfor %}", {{"messages", {{{"role", "u"}}}}});
    EXPECT_TRUE(has(e, "line 2")) << e.what();
    EXPECT_TRUE(has(e, "has no attribute 'x'")) << e.what();

    e = render_error("\n\n   {{ raise_exception('bad role') }}");
    EXPECT_TRUE(has(e, "line 3, column 7")) << e.what();
    EXPECT_TRUE(has(e, "bad role")) << e.what();

    e = render_error("{{ 'a' | no_such_filter }}");
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
    EXPECT_TRUE(has(e, "no_such_filter")) << e.what();
}

TEST(TemplateLimits, InfiniteRecursionFails) {
    Error e = render_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
    EXPECT_TRUE(has(e, "call depth")) << e.what();
}

TEST(TemplateLimits, LoopIterationLimit) {
    TemplateLimits lim;
    lim.max_loop_iterations = 50000;
    Error e = render_error("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", {}, lim);
    EXPECT_TRUE(has(e, "loop iterations")) << e.what();
}

TEST(TemplateLimits, OutputAndStringSizeLimits) {
    TemplateLimits lim;
    lim.max_output_bytes = 1000;
    Error e = render_error("{% for i in range(1000) %}xxxxxxxxxx{% endfor %}", {}, lim);
    EXPECT_TRUE(has(e, "output too large")) << e.what();

    lim = {};
    lim.max_string_bytes = 1 << 20;
    e = render_error("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", {}, lim);
    EXPECT_TRUE(has(e, "too large")) << e.what();
    e = render_error("{{ 'x' * 100000000000 }}", {}, lim);
    EXPECT_TRUE(has(e, "too large")) << e.what();
    e = render_error("{{ range(1000000) | length }}");
    EXPECT_TRUE(has(e, "Range too big")) << e.what();
}

TEST(TemplateLimits, DeepNestingFailsCleanly) {
    Error e = render_error("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}");
    EXPECT_TRUE(has(e, "nesting")) << e.what();
    std::string blocks;
    for (int i = 0; i < 1000; ++i) blocks += "{% if true %}";
    e = render_error(blocks);
    EXPECT_TRUE(has(e, "nesting")) << e.what();
    e = render_error("{% set ns = namespace(v=[]) %}{% for i in range(1000) %}{% set ns.v = [ns.v] %}{% endfor %}{{ ns.v }}");
    EXPECT_TRUE(has(e, "nesting")) << e.what();
    e = render_error("{% set ns = namespace() %}{% set ns.self = ns %}{{ ns }}");
    EXPECT_TRUE(has(e, "nesting")) << e.what();
}


// Python integers are unbounded; we refuse results beyond 64 bits instead of wrapping silently.
TEST(TemplateLimits, IntegerOverflowIsAnErrorNotAWrap) {
    EXPECT_TRUE(has(render_error("{{ 2 ** 64 }}"), "integer overflow"));
    EXPECT_TRUE(has(render_error("{{ 9223372036854775807 + 1 }}"), "integer overflow"));
    EXPECT_TRUE(has(render_error("{{ 99999999999999999999 }}"), "too large"));
}

// Regression from fuzzing: a huge %-format width once overflowed an int while being parsed.
TEST(TemplateLimits, HugeFormatWidthFailsCleanly) {
    EXPECT_TRUE(has(render_error("{{ '%4444444444444444444d' | format(1) }}"), "too large"));
    EXPECT_TRUE(has(render_error("{{ '{:99999999999999f}'.format(1.5) }}"), "too large"));
}

TEST(TemplateApi, ApplyValidatesInputAndKeepsKeyOrder) {
    ChatTemplate t = ChatTemplate::parse("{{ tools | tojson }}|{{ messages[0] | tojson }}");
    ChatRenderOptions opt;
    opt.tools = nlohmann::ordered_json::parse(R"([{"z": 1, "a": 2}])");
    // Insertion order of ordered_json is what the template sees, like a Python dict.
    EXPECT_EQ(t.apply(nlohmann::ordered_json::parse(R"([{"role": "user", "content": "hi"}])"), opt),
              R"([{"z": 1, "a": 2}]|{"role": "user", "content": "hi"})");
    EXPECT_THROW(t.apply(nlohmann::ordered_json::object()), Error);
    EXPECT_THROW(t.apply(nlohmann::ordered_json::array({1})), Error);
    EXPECT_THROW(t.render(nlohmann::ordered_json::array()), Error);
    EXPECT_EQ(ChatTemplate::parse("{{ x is defined }}").render(nullptr), "False");  // null = no variables
}

TEST(TemplateApi, ReasoningFieldsAliasedLikeTransformers) {
    ChatTemplate t = ChatTemplate::parse("{{ messages[0] | tojson }}");
    auto msgs = nlohmann::ordered_json::parse(R"([{"role": "assistant", "reasoning": "r", "content": "c"}])");
    EXPECT_EQ(t.apply(msgs), R"({"thinking": "r", "role": "assistant", "reasoning": "r", "content": "c", "reasoning_content": "r"})");
    ChatRenderOptions opt;
    opt.alias_reasoning_fields = false;
    EXPECT_EQ(t.apply(msgs, opt), R"({"role": "assistant", "reasoning": "r", "content": "c"})");
}

}  // namespace
}  // namespace llcuda::test
