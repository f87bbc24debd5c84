// Template lexer: splits a template into text and tag tokens the way jinja2's lexer does under
// transformers' settings (trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False).
//
// Whitespace control is resolved here, so the parser only sees final text: `{%-`/`-%}` strip all
// whitespace next to the tag, `+` disables lstrip/trim for that side, trim_blocks drops one
// newline after a block or comment tag, lstrip_blocks drops the indentation before a block or
// comment tag that starts its line. Comments vanish, raw blocks become text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llcuda::tmpl {

enum class Tok : uint8_t { Data, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, Eof };

struct Token {
    Tok type;
    std::string text;  // data, name, decoded string literal or operator
    int64_t ival = 0;
    double fval = 0;
    int line = 1;
    int col = 1;
};

struct LexOptions {
    bool trim_blocks = true;
    bool lstrip_blocks = true;
    bool keep_trailing_newline = false;
};

// Throws llcuda::Error (FormatError) with line and column on malformed input.
std::vector<Token> lex(std::string_view source, const LexOptions& options = {});

// "line L, column C" helper shared by the parser and interpreter error messages.
std::string position_text(int line, int col);

}  // namespace llcuda::tmpl
