// Python string formatting; see pyformat.h. Numeric conversions go through snprintf, which uses
// the same C formatting rules Python's %-formatting is defined by.
#include "template/pyformat.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "template/interpreter.h"
#include "template/utf8.h"

namespace llcuda::tmpl {

static std::string pad(const std::string& s, int width, bool left) {
    int len = static_cast<int>(utf8_length(s));
    if (width <= len) return s;
    std::string fill(size_t(width - len), ' ');
    return left ? s + fill : fill + s;
}

static std::string format_number(const std::string& flags, int width, int prec, char type, const Value& v) {
    if (!v.is_number()) type_error(std::string("%") + type + " format: a real number is required, not " + type_label(v));
    if (width > 400 || prec > 400) type_error("format width or precision too large");
    std::string spec = "%" + flags;
    if (width >= 0) spec += std::to_string(width);
    if (prec >= 0) spec += "." + std::to_string(prec);
    char buf[512];
    if (type == 'd' || type == 'i' || type == 'x' || type == 'X' || type == 'o') {
        int64_t n = v.kind == Kind::Float ? static_cast<int64_t>(v.f) : v.as_int();
        if (v.kind == Kind::Float && (std::isnan(v.f) || std::isinf(v.f))) type_error("cannot convert float to integer");
        spec += "ll";
        spec += type == 'i' ? 'd' : type;
        std::snprintf(buf, sizeof buf, spec.c_str(), static_cast<long long>(n));
    } else {
        spec += type;
        std::snprintf(buf, sizeof buf, spec.c_str(), v.as_double());
    }
    return buf;
}

std::string py_percent_format(Interpreter& in, const std::string& fmt, const Value& args) {
    std::vector<Value> items;
    if (args.kind == Kind::Tuple) items = *args.list;
    else items.push_back(args);
    const Dict* mapping = args.kind == Kind::Dict ? args.dict.get() : nullptr;
    // Python lets a lone argument with __getitem__ (dict, list, Undefined) go unused.
    const bool mapping_like = mapping || (args.kind == Kind::List && !args.generator) || args.kind == Kind::Undefined;
    size_t next = 0;
    std::string out;
    for (size_t i = 0; i < fmt.size(); ++i) {
        if (fmt[i] != '%') {
            out += fmt[i];
            continue;
        }
        if (++i >= fmt.size()) type_error("incomplete format");
        const Value* arg = nullptr;
        if (fmt[i] == '(') {
            size_t close = fmt.find(')', i);
            if (args.is_undefined()) raise_undefined(args);
            if (close == std::string::npos || !mapping) type_error("format requires a mapping");
            arg = mapping->find(std::string_view(fmt).substr(i + 1, close - i - 1));
            if (!arg) type_error("format key not found");
            i = close + 1;
        }
        std::string flags;
        while (i < fmt.size() && std::string("-+ #0").find(fmt[i]) != std::string::npos) flags += fmt[i++];
        int width = -1, prec = -1;
        // Clamped while parsing: a long digit run must not overflow before the range check.
        while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') width = std::min((width < 0 ? 0 : width) * 10 + (fmt[i++] - '0'), 1000000);
        if (i < fmt.size() && fmt[i] == '.') {
            prec = 0;
            ++i;
            while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') prec = std::min(prec * 10 + (fmt[i++] - '0'), 1000000);
        }
        if (width > 100000 || prec > 100000) type_error("format width too large");
        if (i >= fmt.size()) type_error("incomplete format");
        char type = fmt[i];
        if (type == '%') {
            out += '%';
            continue;
        }
        if (!arg) {
            if (next >= items.size()) type_error("not enough arguments for format string");
            arg = &items[next++];
        }
        bool left = flags.find('-') != std::string::npos;
        switch (type) {
            case 's': {
                std::string s = to_str(*arg);
                if (prec >= 0) s = s.substr(0, utf8_offsets(s)[std::min<size_t>(prec, utf8_length(s))]);
                out += pad(s, width, left);
                break;
            }
            case 'r': case 'a': out += pad(repr(*arg), width, left); break;
            case 'c': {
                std::string s;
                if (arg->is_string()) s = arg->s;
                else if (arg->is_int()) utf8_append(s, char32_t(arg->as_int()));
                else type_error("%c requires int or char");
                out += pad(s, width, left);
                break;
            }
            case 'd': case 'i': case 'x': case 'X': case 'o': case 'f': case 'F': case 'e': case 'E': case 'g': case 'G':
                out += format_number(flags, width, prec, type, *arg);
                break;
            default: type_error(std::string("unsupported format character '") + type + "'");
        }
        in.check_size(out.size());
    }
    // A lone non-tuple argument counts as a 1-tuple; a mapping may go unused.
    if (!mapping_like && next < items.size()) type_error("not all arguments converted during string formatting");
    return out;
}

std::string py_brace_format(Interpreter& in, const std::string& fmt, const CallArgs& args) {
    std::string out;
    size_t auto_index = 0;
    for (size_t i = 0; i < fmt.size(); ++i) {
        char c = fmt[i];
        if (c == '}') {
            if (i + 1 < fmt.size() && fmt[i + 1] == '}') ++i;
            else type_error("Single '}' encountered in format string");
            out += '}';
            continue;
        }
        if (c != '{') {
            out += c;
            continue;
        }
        if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
            out += '{';
            ++i;
            continue;
        }
        size_t close = fmt.find('}', i);
        if (close == std::string::npos) type_error("Single '{' encountered in format string");
        std::string field = fmt.substr(i + 1, close - i - 1);
        i = close;
        std::string spec;
        if (auto colon = field.find(':'); colon != std::string::npos) {
            spec = field.substr(colon + 1);
            field = field.substr(0, colon);
        }
        if (auto bang = field.find('!'); bang != std::string::npos) field = field.substr(0, bang);
        const Value* v = nullptr;
        if (field.empty()) {
            v = auto_index < args.positional.size() ? &args.positional[auto_index] : nullptr;
            ++auto_index;
        } else if (field.find_first_not_of("0123456789") == std::string::npos) {
            size_t k = std::stoul(field.substr(0, 9));
            v = k < args.positional.size() ? &args.positional[k] : nullptr;
        } else {
            for (const auto& [name, val] : args.keyword)
                if (name == field) v = &val;
        }
        if (!v) type_error("format field '" + field + "' has no matching argument");
        if (spec.empty()) {
            out += to_str(*v);
        } else {
            // A small subset of the format mini-language: [fill-free] width and .precision with f/d.
            int width = 0, prec = -1;
            size_t p = 0;
            while (p < spec.size() && isdigit(static_cast<unsigned char>(spec[p]))) width = std::min(width * 10 + (spec[p++] - '0'), 100000);
            if (p < spec.size() && spec[p] == '.') {
                prec = 0;
                ++p;
                while (p < spec.size() && isdigit(static_cast<unsigned char>(spec[p]))) prec = std::min(prec * 10 + (spec[p++] - '0'), 400);
            }
            char type = p < spec.size() ? spec[p] : 's';
            if (type == 'f' || type == 'd' || type == 'e' || type == 'g') out += format_number("", width, prec, type, *v);
            else if (type == 's') out += pad(to_str(*v), width, !v->is_number());
            else type_error("unsupported format spec '" + spec + "'");
        }
        in.check_size(out.size());
    }
    return out;
}

}  // namespace llcuda::tmpl
