// JSON Schema -> GBNF: the grammar accepts exactly the JSON texts the schema describes (integer
// ranges checked against every integer in a window, string lengths in characters, property order
// and optionality), and keywords outside the subset are refused by name.
#include <string>

#include <gtest/gtest.h>

#include "grammar/automaton.h"
#include "grammar/grammar.h"
#include "llcuda/error.h"
#include "llcuda/grammar.h"

namespace llcuda {
namespace {

class Accepts {
public:
    explicit Accepts(const std::string& schema) : gbnf_(json_schema_to_grammar(schema)), a_(grammar::parse_gbnf(gbnf_)) {}
    bool operator()(const std::string& text) {
        int32_t s = a_.initial();
        for (char c : text) {
            s = a_.step(s, uint8_t(c));
            if (s == grammar::Automaton::kDead) return false;
        }
        return a_.accepting(s);
    }
    const std::string& gbnf() const { return gbnf_; }

private:
    std::string gbnf_;
    grammar::Automaton a_;
};

TEST(JsonSchema, IntegerBoundsAcceptExactlyTheRange) {
    struct Case {
        const char* bounds;
        long lo, hi;  // expected inclusive range (LONG_MIN / LONG_MAX: unbounded)
    };
    const Case cases[] = {
        {R"("minimum": 0, "maximum": 150)", 0, 150},
        {R"("minimum": -37, "maximum": 1024)", -37, 1024},
        {R"("minimum": -999, "maximum": -100)", -999, -100},
        {R"("exclusiveMinimum": -40, "exclusiveMaximum": 60)", -39, 59},
        {R"("minimum": 7)", 7, LONG_MAX},
        {R"("minimum": -12)", -12, LONG_MAX},
        {R"("maximum": 99)", LONG_MIN, 99},
        {R"("maximum": -5)", LONG_MIN, -5},
        {R"("minimum": 1.5, "maximum": 9.5)", 2, 9},
        {R"("minimum": 5, "maximum": 5)", 5, 5},
    };
    for (const Case& c : cases) {
        Accepts accepts(std::string(R"({"type": "integer", )") + c.bounds + "}");
        for (long v = -1500; v <= 1500; ++v) {
            const bool in = v >= c.lo && v <= c.hi;
            ASSERT_EQ(accepts(std::to_string(v)), in) << c.bounds << " value " << v << "\n" << accepts.gbnf();
        }
        EXPECT_FALSE(accepts("007"));
        EXPECT_FALSE(accepts("1.5"));
        if (c.hi == LONG_MAX) EXPECT_TRUE(accepts("123456789012"));
        if (c.lo == LONG_MIN) EXPECT_TRUE(accepts("-123456789012"));
    }
}

TEST(JsonSchema, StringLengthsCountCharactersNotBytesOrEscapes) {
    Accepts accepts(R"({"type": "string", "minLength": 2, "maxLength": 3})");
    EXPECT_TRUE(accepts(R"("ab")"));
    EXPECT_TRUE(accepts(R"("abc")"));
    EXPECT_FALSE(accepts(R"("a")"));
    EXPECT_FALSE(accepts(R"("abcd")"));
    EXPECT_TRUE(accepts(R"("a\nb")"));           // \n is one character
    EXPECT_TRUE(accepts(R"("\u00e9\"")"));       // two escapes, two characters
    EXPECT_TRUE(accepts("\"\xC3\xA9\xE6\x97\xA5\""));  // é日: two characters, five bytes
    EXPECT_FALSE(accepts("\"a\nb\""));          // a raw newline is not allowed in JSON strings
}

TEST(JsonSchema, EnumConstAndTypeLists) {
    Accepts e(R"({"enum": ["red", 1, null, {"a": [true]}]})");
    EXPECT_TRUE(e(R"("red")"));
    EXPECT_TRUE(e("1"));
    EXPECT_TRUE(e("null"));
    EXPECT_TRUE(e(R"({"a":[true]})"));
    EXPECT_FALSE(e(R"("blue")"));
    EXPECT_FALSE(e("2"));
    Accepts k(R"({"type": "string", "const": "fixed"})");
    EXPECT_TRUE(k(R"("fixed")"));
    EXPECT_FALSE(k(R"("other")"));
    Accepts t(R"({"type": ["boolean", "null"]})");
    EXPECT_TRUE(t("true"));
    EXPECT_TRUE(t("null"));
    EXPECT_FALSE(t("0"));
}

TEST(JsonSchema, ObjectsFollowPropertyOrderAndRequired) {
    Accepts accepts(R"({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"},
                        "c": {"type": "boolean"}}, "required": ["b"]})");
    EXPECT_TRUE(accepts(R"({"b":"x"})"));
    EXPECT_TRUE(accepts(R"({"a":1,"b":"x"})"));
    EXPECT_TRUE(accepts(R"({ "a" : 1 , "b" : "x" , "c" : true })"));
    EXPECT_TRUE(accepts(R"({"b":"x","c":false})"));
    EXPECT_FALSE(accepts(R"({})"));                  // b is required
    EXPECT_FALSE(accepts(R"({"a":1})"));
    EXPECT_FALSE(accepts(R"({"b":"x","a":1})"));     // generated in schema order only
    EXPECT_FALSE(accepts(R"({"b":"x","d":1})"));     // listed properties: closed by default
    EXPECT_FALSE(accepts(R"({"a":"1","b":"x"})"));   // a is an integer
    EXPECT_FALSE(accepts(R"({"b":"x",})"));

    Accepts open(R"({"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": {"type": "number"}})");
    EXPECT_TRUE(open(R"({"a":1,"zz":2.5,"y":-1})"));
    EXPECT_TRUE(open(R"({"q":1e5})"));
    EXPECT_FALSE(open(R"({"a":1,"zz":"s"})"));
}

TEST(JsonSchema, ArraysWithBounds) {
    Accepts accepts(R"({"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3})");
    EXPECT_FALSE(accepts("[]"));
    EXPECT_TRUE(accepts("[1]"));
    EXPECT_TRUE(accepts("[1, 2,3]"));
    EXPECT_FALSE(accepts("[1,2,3,4]"));
    EXPECT_FALSE(accepts("[1,]"));
    Accepts any(R"({"type": "array"})");
    EXPECT_TRUE(any(R"([1,"a",[null,{}]])"));
    EXPECT_TRUE(any("[]"));
}

TEST(JsonSchema, RefsRecursionAnyOf) {
    Accepts accepts(R"({"$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"},
                          "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}, "required": ["v"]}},
                        "anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]})");
    EXPECT_TRUE(accepts("null"));
    EXPECT_TRUE(accepts(R"({"v":1,"kids":[{"v":2},{"v":3,"kids":[{"v":4}]}]})"));
    EXPECT_FALSE(accepts(R"({"v":1,"kids":[{"w":2}]})"));
}

TEST(JsonSchema, FormatsAndPatterns) {
    Accepts date(R"({"type": "string", "format": "date"})");
    EXPECT_TRUE(date(R"("2024-02-29")"));
    EXPECT_TRUE(date(R"("1999-12-31")"));
    EXPECT_FALSE(date(R"("2024-02-30")"));
    EXPECT_FALSE(date(R"("2024-04-31")"));
    EXPECT_FALSE(date(R"("2024-13-01")"));
    Accepts dt(R"({"type": "string", "format": "date-time"})");
    EXPECT_TRUE(dt(R"("2024-05-06T07:08:09Z")"));
    EXPECT_FALSE(dt(R"("2024-05-06T23:59:60.5+01:00")"));  // leap seconds are not generated
    EXPECT_TRUE(dt(R"("2024-05-06T23:59:59.123-05:30")"));
    Accepts uuid(R"({"type": "string", "format": "uuid"})");
    EXPECT_TRUE(uuid(R"("123e4567-e89b-12d3-a456-426614174000")"));
    EXPECT_FALSE(uuid(R"("123e4567e89b12d3a456426614174000")"));
    Accepts zip(R"({"type": "string", "pattern": "^[0-9]{5}(-[0-9]{4})?$"})");
    EXPECT_TRUE(zip(R"("12345")"));
    EXPECT_TRUE(zip(R"("12345-6789")"));
    EXPECT_FALSE(zip(R"("1234")"));
    EXPECT_FALSE(zip(R"("12345-")"));
    Accepts quote(R"({"type": "string", "pattern": "^a\"b\\.c|\\d+\\s?$"})");
    EXPECT_TRUE(quote(R"("a\"b.c")"));  // the pattern's " is written escaped inside the JSON string
    EXPECT_TRUE(quote(R"("42")"));
    EXPECT_TRUE(quote(R"("42 ")"));
    EXPECT_FALSE(quote(R"("a"b.c")"));
}

TEST(JsonSchema, AnyJsonObject) {
    Accepts accepts(R"({"type": "object"})");
    EXPECT_EQ(json_object_grammar(), accepts.gbnf());
    EXPECT_TRUE(accepts(R"({"a":[1,{"b":null}],"c":"\u00e9"})"));
    EXPECT_TRUE(accepts("{}"));
    EXPECT_FALSE(accepts("[1]"));
    EXPECT_FALSE(accepts(R"({"a":01})"));
}

void expect_error(const std::string& schema, ErrorKind kind, const std::string& fragment) {
    try {
        json_schema_to_grammar(schema);
        ADD_FAILURE() << "no error for " << schema;
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), kind) << e.what();
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
}

TEST(JsonSchema, UnsupportedKeywordsAreNamed) {
    expect_error(R"({"type": "string", "contentMediaType": "text/html"})", ErrorKind::Unsupported,
                 "unsupported keyword 'contentMediaType'");
    expect_error(R"({"type": "object", "properties": {"a": {"type": "array", "prefixItems": []}}})", ErrorKind::Unsupported,
                 "at /properties/a: unsupported keyword 'prefixItems'");
    expect_error(R"({"type": "number", "maximum": 5})", ErrorKind::Unsupported, "keyword 'maximum' for type number");
    expect_error(R"({"type": "string", "minimum": 5})", ErrorKind::Unsupported, "keyword 'minimum' is not supported here");
    expect_error(R"({"$ref": "https://example.com/s.json"})", ErrorKind::Unsupported, "$ref 'https://example.com/s.json'");
    expect_error(R"({"type": "string", "pattern": "[a-z]+"})", ErrorKind::Unsupported, "start it with ^ and end it with $");
    expect_error(R"({"type": "string", "pattern": "^(a)\\1$"})", ErrorKind::Unsupported, "escape \\1");
    expect_error(R"({"type": "string", "format": "email"})", ErrorKind::Unsupported, "format 'email'");
    expect_error(R"({"type": "object", "properties": {}, "required": ["x"]})", ErrorKind::Unsupported,
                 "required property 'x' is not in 'properties'");
    expect_error(R"({"type": "strin"})", ErrorKind::InvalidArgument, "unknown type 'strin'");
    expect_error(R"({"type": "string",)", ErrorKind::InvalidArgument, "not valid JSON");
    expect_error(R"({"type": "array", "minItems": 3, "maxItems": 2})", ErrorKind::InvalidArgument, "maxItems is below minItems");
}

}  // namespace
}  // namespace llcuda
