// Writing GBNF text: literals and character classes with every character that could be mistaken
// for syntax escaped. Used by the JSON Schema and regular expression converters.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llcuda::grammar {

// "text" as a GBNF literal (text is UTF-8).
std::string gbnf_literal(std::string_view text);
// One code point as it may stand inside a literal or a class.
std::string gbnf_char(uint32_t cp);
// [ranges] or [^ranges] from inclusive code point ranges.
std::string gbnf_class(const std::vector<std::pair<uint32_t, uint32_t>>& ranges, bool negate = false);
// Decodes UTF-8 into code points; throws InvalidArgument on invalid UTF-8.
std::vector<uint32_t> utf8_code_points(std::string_view text);

}  // namespace llcuda::grammar
