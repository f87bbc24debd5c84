// JSON in and out of template values.
//
// Input keeps object key order (transformers hands Python dicts, which preserve insertion order,
// to the template; tojson output depends on it). Output reproduces Python's json.dumps exactly,
// since transformers' tojson filter is json.dumps(x, ensure_ascii=False, indent, separators,
// sort_keys) rather than jinja2's HTML-safe tojson.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "template/value.h"

namespace llcuda::tmpl {

Value from_json(const nlohmann::ordered_json& j);

struct JsonDumpOptions {
    bool ensure_ascii = false;
    std::optional<std::string> indent;  // json.dumps indent, already turned into its string
    std::optional<std::string> item_separator, key_separator;
    bool sort_keys = false;
};

std::string py_json_dumps(const Value& v, const JsonDumpOptions& options);

}  // namespace llcuda::tmpl
