// GBNF parsing: the notation llama.cpp documents compiles, and each kind of mistake is reported
// with its line and column (checked against positions counted by hand in the test text).
#include <gtest/gtest.h>

#include "grammar/automaton.h"
#include "grammar/grammar.h"
#include "llcuda/error.h"
#include "llcuda/grammar.h"

namespace llcuda::grammar {
namespace {

// Does the grammar accept exactly `text` (as a whole sentence)?
bool accepts(const std::string& gbnf, const std::string& text) {
    Automaton a(parse_gbnf(gbnf));
    int32_t s = a.initial();
    for (char c : text) {
        s = a.step(s, uint8_t(c));
        if (s == Automaton::kDead) return false;
    }
    return a.accepting(s);
}

std::string error_of(const std::string& gbnf) {
    try {
        parse_gbnf(gbnf);
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
        return e.what();
    }
    ADD_FAILURE() << "no error for: " << gbnf;
    return "";
}

TEST(GbnfParse, EveryConstructOfTheNotation) {
    const std::string g = R"g(# a comment line
root   ::= greeting ("," ws name)+ "!"?  # trailing comment
greeting ::= "hi" | "hello" | [Hh] "ey"
name   ::= [A-Z] [a-z]{1,5} suffix{0,2}
suffix ::= "-" [^-!, \n]
ws     ::= [ \t]*
)g";
    EXPECT_TRUE(accepts(g, "hi,Bob"));
    EXPECT_TRUE(accepts(g, "Hey, Alice-x!"));
    EXPECT_TRUE(accepts(g, "hello,Ann,  Zoe-a-b!"));
    EXPECT_FALSE(accepts(g, "hi"));            // + needs one
    EXPECT_FALSE(accepts(g, "hi,B"));          // {1,5} needs one lower-case letter
    EXPECT_FALSE(accepts(g, "hi,Bobbbbb"));    // at most five
    EXPECT_FALSE(accepts(g, "hi,Bo-a-b-c"));   // suffix at most twice
    EXPECT_FALSE(accepts(g, "hi,Bo-!"));       // negated class
    EXPECT_TRUE(accepts(g, "hi,Bo-\xC3\xA9"));  // a negated class takes any other character, é
}

TEST(GbnfParse, EscapesAndUnicode) {
    const std::string g = R"g(root ::= "\x41\u00e9\U0001F600\t\n\r\\\"" [\x30-\x39\]] "ü")g";
    EXPECT_TRUE(accepts(g, "A\xC3\xA9\xF0\x9F\x98\x80\t\n\r\\\"5\xC3\xBC"));
    EXPECT_TRUE(accepts(g, "A\xC3\xA9\xF0\x9F\x98\x80\t\n\r\\\"]\xC3\xBC"));
    EXPECT_FALSE(accepts(g, "A\xC3\xA9\xF0\x9F\x98\x80\t\n\r\\\"a\xC3\xBC"));
}

TEST(GbnfParse, DotAndRangesMatchWholeCharacters) {
    EXPECT_TRUE(accepts("root ::= . .", "\xE2\x82\xAC" "a"));  // €a
    EXPECT_FALSE(accepts("root ::= .", "\xC0\x80"));           // overlong NUL is not UTF-8
    EXPECT_FALSE(accepts("root ::= .", "\xED\xA0\x80"));       // a surrogate is not a character
    EXPECT_TRUE(accepts("root ::= [α-ω]+", "\xCE\xB1\xCF\x89"));
    EXPECT_FALSE(accepts("root ::= [α-ω]+", "\xCE\x91"));      // Α (capital) is outside
}

TEST(GbnfParse, NestedGroupsAndMultilineAlternatives) {
    const std::string g = R"g(root ::= (
    "a" ("b" | "c")*
  | "d"
) "e")g";
    EXPECT_TRUE(accepts(g, "abcbe"));
    EXPECT_TRUE(accepts(g, "de"));
    EXPECT_FALSE(accepts(g, "dbe"));
}

TEST(GbnfParse, RecursionThatConsumesInputFirstIsFine) {
    const std::string g = R"g(root ::= "(" root ")" | "x")g";
    EXPECT_TRUE(accepts(g, "((x))"));
    EXPECT_FALSE(accepts(g, "((x)"));
}

TEST(GbnfParse, ErrorsNameLineAndColumn) {
    EXPECT_NE(error_of("root ::= \"abc").find("line 1, column 14: unterminated string literal"), std::string::npos);
    EXPECT_NE(error_of("root ::= foo\n").find("line 1, column 10: undefined rule 'foo'"), std::string::npos);
    EXPECT_NE(error_of("root ::= \"a\"\nx ::= [a-\n").find("line 2, column 7: unclosed '['"), std::string::npos);
    EXPECT_NE(error_of("root ::= (\"a\" \"b\"\n").find("line 1, column 10: unclosed '('"), std::string::npos);
    EXPECT_NE(error_of("root ::= \"a\"\nroot = \"b\"").find("line 2, column 6: expected '::=' after rule name 'root'"),
              std::string::npos);
    EXPECT_NE(error_of("root ::= * \"a\"").find("line 1, column 10: '*' has nothing before it to repeat"), std::string::npos);
    EXPECT_NE(error_of("root ::= \"a\"{3,2}").find("line 1, column 18: repetition {3,2} has its maximum below its minimum"),
              std::string::npos);
    EXPECT_NE(error_of("root ::= \"\\q\"").find("line 1, column 11: unknown escape '\\q'"), std::string::npos);
    EXPECT_NE(error_of("root ::= [z-a]").find("line 1, column 14: range U+7A-U+61 runs backwards"), std::string::npos);
    EXPECT_NE(error_of("root ::= \"a\"\nroot ::= \"b\"").find("line 2, column 1: rule 'root' is defined twice (first on line 1)"),
              std::string::npos);
    EXPECT_NE(error_of("root ::= \"é\" )").find("line 1, column 14: unexpected ')'"), std::string::npos);  // columns count characters
    EXPECT_NE(error_of("start ::= \"a\"").find("there is no rule named 'root'"), std::string::npos);
}

TEST(GbnfParse, HostileGrammarsAreRefusedOrBounded) {
    // Left recursion, direct and through a rule that can match nothing.
    EXPECT_NE(error_of("root ::= root \"a\" | \"b\"").find("rule 'root' is left-recursive"), std::string::npos);
    EXPECT_NE(error_of("root ::= e root \"a\" | \"b\"\ne ::= \"x\"?").find("left-recursive"), std::string::npos);
    EXPECT_NE(error_of("root ::= (\"a\"?)*").find("left-recursive"), std::string::npos);
    // Huge counts and deep nesting.
    EXPECT_NE(error_of("root ::= \"a\"{1000000}").find("repetition count larger than 10000"), std::string::npos);
    std::string big = "root ::= r0\n";  // 300 rules of 10000 copies each
    for (int i = 0; i < 300; ++i) big += "r" + std::to_string(i) + " ::= \"a\"{10000} r" + std::to_string(i + 1) + "\n";
    big += "r300 ::= \"b\"\n";
    EXPECT_NE(error_of(big).find("more than 2000000 elements"), std::string::npos);
    EXPECT_NE(error_of("root ::= " + std::string(500, '(') + "\"a\"" + std::string(500, ')')).find("nested deeper than 200"),
              std::string::npos);
    // Nested optional repetitions of something that may match nothing: accepted by the parser, but
    // the expansion of one character is bounded and reported, never a hang.
    const std::string nested = "root ::= ((x{0,3000}){0,3000}) \"b\"\nx ::= \"a\"?";
    try {
        Automaton a(parse_gbnf(nested));
        (void)a.step(a.initial(), 'b');
        ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("rule expansions"), std::string::npos) << e.what();
    }
}

TEST(GbnfParse, PublicCheck) {
    EXPECT_NO_THROW(check_grammar("root ::= [0-9]+"));
    EXPECT_THROW(check_grammar("root ::= [0-9"), Error);
}

}  // namespace
}  // namespace llcuda::grammar
