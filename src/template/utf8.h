// UTF-8 helpers for the template interpreter.
//
// Python (and so jinja2) indexes, slices and measures strings in code points, and its notion of
// whitespace (str.strip, str.split, `\s`) is Unicode-wide. Template values keep UTF-8 bytes, so
// these helpers translate between byte offsets and code points. Invalid UTF-8 is never rejected:
// each bad byte counts as one code point, so fuzzed input cannot crash or loop.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llcuda::tmpl {

// Decodes the code point at `pos` and advances `pos`; an invalid byte decodes as itself.
char32_t utf8_next(std::string_view s, size_t& pos);
void utf8_append(std::string& out, char32_t cp);

size_t utf8_length(std::string_view s);
// Byte offsets of each code point start, plus s.size() at the end.
std::vector<size_t> utf8_offsets(std::string_view s);
bool is_ascii(std::string_view s);

// Python's str.isspace() for one code point.
bool py_isspace(char32_t cp);

// Python's str.strip/lstrip/rstrip: whitespace when `chars` is null, else any code point of chars.
std::string py_strip(std::string_view s, const std::string* chars, bool left, bool right);

// Case mapping. ASCII plus Latin-1, Greek and Cyrillic basic letters; other scripts unchanged.
std::string py_upper(std::string_view s);
std::string py_lower(std::string_view s);
char32_t cp_upper(char32_t c);
char32_t cp_lower(char32_t c);
bool cp_is_cased_lower(char32_t c);
bool cp_is_cased_upper(char32_t c);
bool cp_is_alpha(char32_t c);
bool cp_is_digit(char32_t c);
bool cp_is_alnum(char32_t c);

// Python str.splitlines() (without keepends).
std::vector<std::string> py_splitlines(std::string_view s);

}  // namespace llcuda::tmpl
