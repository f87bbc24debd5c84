// JSON conversion; see json.h.
#include "template/json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "template/utf8.h"

namespace llcuda::tmpl {

Value from_json(const nlohmann::ordered_json& j) {
    NestGuard guard;
    switch (j.type()) {
        case nlohmann::ordered_json::value_t::null: return Value::none();
        case nlohmann::ordered_json::value_t::boolean: return Value::boolean(j.get<bool>());
        case nlohmann::ordered_json::value_t::number_integer: return Value::integer(j.get<int64_t>());
        case nlohmann::ordered_json::value_t::number_unsigned: {
            uint64_t u = j.get<uint64_t>();
            if (u > uint64_t(INT64_MAX)) fail(ErrorKind::InvalidArgument, "integer beyond 64 bits in template input");
            return Value::integer(int64_t(u));
        }
        case nlohmann::ordered_json::value_t::number_float: return Value::number(j.get<double>());
        case nlohmann::ordered_json::value_t::string: return Value::string(j.get<std::string>());
        case nlohmann::ordered_json::value_t::array: {
            std::vector<Value> items;
            items.reserve(j.size());
            for (const auto& x : j) items.push_back(from_json(x));
            return Value::make_list(std::move(items));
        }
        case nlohmann::ordered_json::value_t::object: {
            Dict d;
            d.items.reserve(j.size());
            for (auto it = j.begin(); it != j.end(); ++it) d.items.emplace_back(Value::string(it.key()), from_json(it.value()));
            return Value::make_dict(std::move(d));
        }
        default: fail(ErrorKind::InvalidArgument, "unsupported JSON value type in template input");
    }
}

static void dump_string(std::string& out, std::string_view s, bool ensure_ascii) {
    out += '"';
    for (size_t p = 0; p < s.size();) {
        char32_t c = utf8_next(s, p);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default: {
                char buf[16];
                if (c < 0x20 || (ensure_ascii && c > 0x7e && c != 0x7f)) {
                    if (c >= 0x10000) {
                        char32_t v = c - 0x10000;
                        std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", unsigned(0xd800 | (v >> 10)), unsigned(0xdc00 | (v & 0x3ff)));
                    } else {
                        std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(c));
                    }
                    out += buf;
                } else {
                    utf8_append(out, c);
                }
            }
        }
    }
    out += '"';
}

static std::string float_json(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
    return py_float_repr(d);
}

static std::string key_json(const Value& k) {
    switch (k.kind) {
        case Kind::String: return k.s;
        case Kind::Int: return std::to_string(k.i);
        case Kind::Bool: return k.b ? "true" : "false";
        case Kind::None: return "null";
        case Kind::Float: return float_json(k.f);
        default: type_error("keys must be str, int, float, bool or None, not " + type_label(k));
    }
}

static void dump(std::string& out, const Value& v, const JsonDumpOptions& o, int level) {
    NestGuard guard;
    const std::string item_sep = o.item_separator.value_or(o.indent ? "," : ", ");
    const std::string key_sep = o.key_separator.value_or(": ");
    auto newline = [&](int lvl) {
        std::string s = "\n";
        for (int k = 0; k < lvl; ++k) s += *o.indent;
        return s;
    };
    switch (v.kind) {
        case Kind::None: out += "null"; return;
        case Kind::Bool: out += v.b ? "true" : "false"; return;
        case Kind::Int: out += std::to_string(v.i); return;
        case Kind::Float: out += float_json(v.f); return;
        case Kind::String: dump_string(out, v.s, o.ensure_ascii); return;
        case Kind::List:
        case Kind::Tuple: {
            if (v.generator) type_error("Object of type generator is not JSON serializable");
            if (v.list->empty()) {
                out += "[]";
                return;
            }
            out += '[';
            if (o.indent) out += newline(level + 1);
            bool first = true;
            for (const auto& x : *v.list) {
                if (!first) out += o.indent ? item_sep + newline(level + 1) : item_sep;
                first = false;
                dump(out, x, o, level + 1);
            }
            if (o.indent) out += newline(level);
            out += ']';
            return;
        }
        case Kind::Dict: {
            if (v.dict->items.empty()) {
                out += "{}";
                return;
            }
            std::vector<const std::pair<Value, Value>*> items;
            for (const auto& kv : v.dict->items) items.push_back(&kv);
            if (o.sort_keys)
                std::stable_sort(items.begin(), items.end(), [](auto* a, auto* b) { return less_than(a->first, b->first); });
            out += '{';
            if (o.indent) out += newline(level + 1);
            bool first = true;
            for (const auto* kv : items) {
                if (!first) out += o.indent ? item_sep + newline(level + 1) : item_sep;
                first = false;
                dump_string(out, key_json(kv->first), o.ensure_ascii);
                out += key_sep;
                dump(out, kv->second, o, level + 1);
            }
            if (o.indent) out += newline(level);
            out += '}';
            return;
        }
        default: {
            std::string t = type_label(v);
            if (v.kind == Kind::Undefined) t = "Undefined";
            else if (auto sp = t.find(" object"); sp != std::string::npos) t = t.substr(0, sp);
            type_error("Object of type " + t + " is not JSON serializable");
        }
    }
}

std::string py_json_dumps(const Value& v, const JsonDumpOptions& options) {
    std::string out;
    dump(out, v, options, 0);
    return out;
}

}  // namespace llcuda::tmpl
