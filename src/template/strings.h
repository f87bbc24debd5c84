// Python str operations shared by string methods and filters (split, replace, title, ...).
#pragma once

#include <string>
#include <vector>

#include "template/value.h"

namespace llcuda::tmpl {

class Interpreter;

std::vector<std::string> py_split(const std::string& s, const std::string* sep, int64_t maxsplit, bool from_right);
std::string py_replace(Interpreter& in, const std::string& s, const std::string& old, const std::string& repl, int64_t count);
std::string py_title(const std::string& s);       // str.title()
std::string py_capitalize(const std::string& s);  // str.capitalize()
std::string jinja_title(const std::string& s);    // jinja2's title filter (word starts after -, space, brackets)
std::string html_escape(const std::string& s);

}  // namespace llcuda::tmpl
