// Constrained generation end to end on the real SmolLM2-135M (CPU engine): a JSON schema yields
// text that parses and has the schema's shape, a seeded run repeats exactly, a grammar with two
// sentences yields one of them, and a bad grammar fails the request before any work.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "llcuda/engine.h"
#include "llcuda/error.h"
#include "test_paths.h"

namespace llcuda {
namespace {

class SmolLM2Grammar : public ::testing::Test {
protected:
    void SetUp() override {
        LLCUDA_REQUIRE_FILE(test::smollm2_path());
        LoadOptions o;
        o.backend = Backend::Cpu;
        o.context_length = 512;
        o.n_threads = 2;
        engine.load_model(test::smollm2_path(), o);
    }
    InferenceEngine engine;
};

const char* kSchema = R"({"type": "object", "properties": {
    "name": {"type": "string", "maxLength": 20},
    "age": {"type": "integer", "minimum": 0, "maximum": 120},
    "city": {"enum": ["Paris", "London", "Tokyo"]},
    "pets": {"type": "array", "items": {"type": "string", "maxLength": 12}, "maxItems": 3}},
  "required": ["name", "age", "city"]})";

TEST_F(SmolLM2Grammar, JsonSchemaOutputParsesAndRepeatsWithTheSeed) {
    SamplingParams p;
    p.temperature = 1.0f;
    p.seed = 1234;
    p.max_tokens = 120;
    p.json_schema = kSchema;
    const std::vector<ChatMessage> messages = {{"user", "Describe a person as JSON with name, age, city and pets."}};
    const auto a = engine.chat(messages, p);
    const auto b = engine.chat(messages, p);
    EXPECT_EQ(a.text, b.text);
    EXPECT_EQ(a.tokens, b.tokens);
    ASSERT_EQ(a.finish_reason, FinishReason::Stop) << a.text;
    const auto j = nlohmann::json::parse(a.text);  // throws (fails the test) when not JSON
    ASSERT_TRUE(j.is_object()) << a.text;
    EXPECT_TRUE(j.at("name").is_string());
    size_t n_chars = 0;  // code points: bytes that are not UTF-8 continuation bytes
    for (char c : j.at("name").get<std::string>()) n_chars += (uint8_t(c) & 0xC0) != 0x80;
    EXPECT_LE(n_chars, 20u);
    EXPECT_TRUE(j.at("age").is_number_integer());
    EXPECT_GE(j.at("age").get<int>(), 0);
    EXPECT_LE(j.at("age").get<int>(), 120);
    const std::string city = j.at("city").get<std::string>();
    EXPECT_TRUE(city == "Paris" || city == "London" || city == "Tokyo") << city;
    if (j.contains("pets")) EXPECT_LE(j["pets"].size(), 3u);
    for (const auto& [key, value] : j.items()) {
        EXPECT_TRUE(key == "name" || key == "age" || key == "city" || key == "pets") << key;
    }
}

TEST_F(SmolLM2Grammar, GrammarChoosesAmongItsSentences) {
    SamplingParams p;
    p.temperature = 0;
    p.max_tokens = 16;
    p.grammar = R"g(root ::= ("yes" | "no") "." )g";
    const auto r = engine.infer("Is the sky blue? Answer:", p);
    EXPECT_TRUE(r.text == "yes." || r.text == "no.") << r.text;
    EXPECT_EQ(r.finish_reason, FinishReason::Stop);
}

TEST_F(SmolLM2Grammar, BadGrammarFailsTheRequestCleanly) {
    SamplingParams p;
    p.grammar = "root ::= (\"a\"";
    try {
        engine.infer("Hello", p);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
        EXPECT_NE(std::string(e.what()).find("line 1, column 10"), std::string::npos) << e.what();
    }
    p.grammar.clear();
    EXPECT_FALSE(engine.infer("Hello", [] { SamplingParams q; q.max_tokens = 2; return q; }()).text.empty());
}

}  // namespace
}  // namespace llcuda

namespace llcuda {
namespace {

// Gemma-3's SentencePiece vocabulary (byte fallback): the same guarantees on the other tokenizer
// family.
TEST(Gemma3Grammar, JsonSchemaOutputParses) {
    LLCUDA_REQUIRE_FILE(test::gemma3_path());
    InferenceEngine engine;
    LoadOptions o;
    o.backend = Backend::Cpu;
    o.context_length = 256;
    o.n_threads = 2;
    engine.load_model(test::gemma3_path(), o);
    SamplingParams p;
    p.temperature = 1.0f;
    p.seed = 7;
    p.max_tokens = 60;
    p.json_schema = R"({"type": "object", "properties": {"capital": {"type": "string", "maxLength": 16},
                        "population_millions": {"type": "integer", "minimum": 0, "maximum": 40},
                        "continent": {"enum": ["Europe", "Asia", "Africa", "Americas", "Oceania"]}},
                        "required": ["capital", "population_millions", "continent"]})";
    const auto r = engine.chat({{"user", "Give the capital of France as JSON."}}, p);
    ASSERT_EQ(r.finish_reason, FinishReason::Stop) << r.text;
    const auto j = nlohmann::json::parse(r.text);
    EXPECT_TRUE(j.at("capital").is_string());
    EXPECT_TRUE(j.at("population_millions").is_number_integer());
    EXPECT_LE(j.at("population_millions").get<int>(), 40);
    EXPECT_TRUE(j.at("continent").is_string());
    EXPECT_EQ(engine.chat({{"user", "Give the capital of France as JSON."}}, p).text, r.text);
}

}  // namespace
}  // namespace llcuda
