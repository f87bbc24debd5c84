// JSON Schema "pattern" (a regular expression) as a GBNF expression for the content of a JSON
// string (between the quotes, as the JSON text spells it: '"' and '\' escaped).
//
// The supported subset: the pattern must match the whole string (^ at the start, $ at the end);
// literals, '.', classes [a-z] [^...], \d \w \s \D \W \S, escaped punctuation, \n \t \r \uXXXX,
// groups ( ) and (?: ), alternation |, quantifiers * + ? {m} {m,} {m,n} (lazy forms match the same
// strings). Anything else (backreferences, lookaround, \b, inner anchors) is Unsupported. Control
// characters other than \n \t \r that a class or '.' includes are not generated.
#pragma once

#include <string>
#include <string_view>

namespace llcuda::grammar {

std::string pattern_to_gbnf(std::string_view pattern);

}  // namespace llcuda::grammar
