// Recursive-descent parser from lexer tokens to the syntax tree, following jinja2's grammar and
// operator precedence (filters bind tighter than arithmetic; `is` tests sit with filters; `**`
// is left-associative as in jinja2).
#pragma once

#include <string_view>

#include "template/ast.h"

namespace llcuda::tmpl {

// Throws llcuda::Error: FormatError for syntax errors, Unsupported for jinja2 features this
// interpreter leaves out (include, extends, blocks, imports, recursive loops, ...). The message
// names the template line and column.
Program parse_template(std::string_view source);

}  // namespace llcuda::tmpl
