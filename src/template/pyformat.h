// Python string formatting used by templates: `"%s" % x`, the `format` filter (printf-style)
// and str.format() ("{}"/"{0}"/"{name}" fields with simple specs).
#pragma once

#include <string>

#include "template/value.h"

namespace llcuda::tmpl {

class Interpreter;

std::string py_percent_format(Interpreter& in, const std::string& fmt, const Value& args);
std::string py_brace_format(Interpreter& in, const std::string& fmt, const CallArgs& args);

}  // namespace llcuda::tmpl
