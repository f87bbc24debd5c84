// Python semantics of template values: truthiness, ==, <, str() and repr().
#include "template/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "template/utf8.h"

namespace llcuda::tmpl {

void fail(ErrorKind kind, const std::string& message) { throw TemplateError(kind, message); }

Value Value::undefined(std::string message) {
    Value v;
    v.s = std::move(message);
    return v;
}
Value Value::none() {
    Value v;
    v.kind = Kind::None;
    return v;
}
Value Value::boolean(bool x) {
    Value v;
    v.kind = Kind::Bool;
    v.b = x;
    return v;
}
Value Value::integer(int64_t x) {
    Value v;
    v.kind = Kind::Int;
    v.i = x;
    return v;
}
Value Value::number(double x) {
    Value v;
    v.kind = Kind::Float;
    v.f = x;
    return v;
}
Value Value::string(std::string x) {
    Value v;
    v.kind = Kind::String;
    v.s = std::move(x);
    return v;
}
Value Value::make_list(std::vector<Value> items) {
    Value v;
    v.kind = Kind::List;
    v.list = std::make_shared<const std::vector<Value>>(std::move(items));
    return v;
}
Value Value::make_generator(std::vector<Value> items) {
    Value v = make_list(std::move(items));
    v.generator = true;
    return v;
}
Value Value::make_tuple(std::vector<Value> items) {
    Value v = make_list(std::move(items));
    v.kind = Kind::Tuple;
    return v;
}
Value Value::make_dict(Dict d) {
    Value v;
    v.kind = Kind::Dict;
    v.dict = std::make_shared<const Dict>(std::move(d));
    return v;
}
Value Value::object(std::shared_ptr<Object> o) {
    Value v;
    v.kind = Kind::Object;
    v.obj = std::move(o);
    return v;
}
Value Value::function(std::string name, std::function<Value(Interpreter&, CallArgs&)> fn) {
    Value v;
    v.kind = Kind::Function;
    v.fn = std::make_shared<const Function>(Function{std::move(name), std::move(fn)});
    return v;
}

const Value* Dict::find(const Value& key) const {
    for (const auto& [k, v] : items)
        if (equals(k, key)) return &v;
    return nullptr;
}
const Value* Dict::find(std::string_view key) const {
    for (const auto& [k, v] : items)
        if (k.kind == Kind::String && k.s == key) return &v;
    return nullptr;
}
void Dict::set(Value key, Value value) {
    for (auto& [k, v] : items)
        if (equals(k, key)) {
            v = std::move(value);
            return;
        }
    items.emplace_back(std::move(key), std::move(value));
}

void Object::set_attr(const std::string& name, Value) {
    type_error("cannot assign attribute '" + name + "' on " + type_name());
}

const Value* CallArgs::get(size_t pos, std::string_view name) const {
    if (pos < positional.size()) return &positional[pos];
    for (const auto& [k, v] : keyword)
        if (k == name) return &v;
    return nullptr;
}

void CallArgs::check(const std::string& fname, std::initializer_list<std::string_view> names) const {
    if (positional.size() > names.size())
        type_error(fname + "() takes at most " + std::to_string(names.size()) + " arguments (" +
                   std::to_string(positional.size()) + " given)");
    for (const auto& [k, v] : keyword) {
        size_t idx = 0;
        bool found = false;
        for (auto n : names) {
            if (n == k) {
                found = true;
                if (idx < positional.size()) type_error(fname + "() got multiple values for argument '" + k + "'");
            }
            ++idx;
        }
        if (!found) type_error(fname + "() got an unexpected keyword argument '" + k + "'");
    }
}

static thread_local int nest_depth = 0;
NestGuard::NestGuard() {
    if (++nest_depth > 256) {
        --nest_depth;
        fail(ErrorKind::InvalidArgument, "value nesting too deep (limit 256)");
    }
}
NestGuard::~NestGuard() { --nest_depth; }

void raise_undefined(const Value& v) { fail(ErrorKind::InvalidArgument, v.s); }

bool truthy(const Value& v) {
    switch (v.kind) {
        case Kind::Undefined: case Kind::None: return false;
        case Kind::Bool: return v.b;
        case Kind::Int: return v.i != 0;
        case Kind::Float: return v.f != 0.0;
        case Kind::String: return !v.s.empty();
        case Kind::List: case Kind::Tuple: return v.generator || !v.list->empty();
        case Kind::Dict: return !v.dict->items.empty();
        case Kind::Object: case Kind::Function: return true;
    }
    return false;
}

bool equals(const Value& a, const Value& b) {
    if (a.is_number() && b.is_number()) {
        if (a.kind == Kind::Float || b.kind == Kind::Float) return a.as_double() == b.as_double();
        return a.as_int() == b.as_int();
    }
    if (a.kind != b.kind) return false;
    if (a.generator || b.generator) return a.list == b.list;  // generators compare by identity
    switch (a.kind) {
        case Kind::Undefined: case Kind::None: return true;  // jinja2: Undefined == Undefined
        case Kind::String: return a.s == b.s;
        case Kind::List: case Kind::Tuple: {
            NestGuard guard;
            if (a.list->size() != b.list->size()) return false;
            for (size_t i = 0; i < a.list->size(); ++i)
                if (!equals((*a.list)[i], (*b.list)[i])) return false;
            return true;
        }
        case Kind::Dict: {
            NestGuard guard;
            if (a.dict->items.size() != b.dict->items.size()) return false;
            for (const auto& [k, v] : a.dict->items) {
                const Value* o = b.dict->find(k);
                if (!o || !equals(v, *o)) return false;
            }
            return true;
        }
        case Kind::Object: return a.obj == b.obj;
        case Kind::Function: return a.fn == b.fn;
        default: return false;
    }
}

static std::string py_type_name(const Value& v) {
    switch (v.kind) {
        case Kind::Undefined: return "Undefined";
        case Kind::None: return "NoneType";
        case Kind::Bool: return "bool";
        case Kind::Int: return "int";
        case Kind::Float: return "float";
        case Kind::String: return "str";
        case Kind::List: return v.generator ? "generator" : "list";
        case Kind::Tuple: return "tuple";
        case Kind::Dict: return "dict";
        case Kind::Object: return v.obj->type_name();
        case Kind::Function: return "function";
    }
    return "object";
}

std::string type_label(const Value& v) {
    if (v.kind == Kind::None) return "None";
    return py_type_name(v) + " object";
}

bool less_than(const Value& a, const Value& b) {
    if (a.is_undefined()) raise_undefined(a);
    if (b.is_undefined()) raise_undefined(b);
    if (a.is_number() && b.is_number()) {
        if (a.kind == Kind::Float || b.kind == Kind::Float) return a.as_double() < b.as_double();
        return a.as_int() < b.as_int();
    }
    if (a.kind == Kind::String && b.kind == Kind::String) return a.s < b.s;  // UTF-8 bytes order like code points
    if (a.is_sequence() && a.kind == b.kind && !a.generator && !b.generator) {
        NestGuard guard;
        const auto& x = *a.list;
        const auto& y = *b.list;
        for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
            if (equals(x[i], y[i])) continue;
            return less_than(x[i], y[i]);
        }
        return x.size() < y.size();
    }
    type_error("'<' not supported between instances of '" + py_type_name(a) + "' and '" + py_type_name(b) + "'");
}

static bool py_printable(char32_t c) {
    if (c < 0x20 || c == 0x7f) return false;
    if (c < 0x7f) return true;
    if (c <= 0xa0 || c == 0xad) return false;
    if ((c >= 0x2000 && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f) || (c >= 0x205f && c <= 0x206f)) return false;
    if (c == 0x3000 || c == 0xfeff || (c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff9 && c <= 0xfffb)) return false;
    if (c == 0x1680 || c > 0x10ffff) return false;
    return true;
}

std::string py_string_repr(std::string_view s) {
    char quote = '\'';
    if (s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos) quote = '"';
    std::string out(1, quote);
    for (size_t p = 0; p < s.size();) {
        char32_t c = utf8_next(s, p);
        if (c == static_cast<char32_t>(quote) || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (py_printable(c)) {
            utf8_append(out, c);
        } else {
            char buf[16];
            if (c < 0x100) std::snprintf(buf, sizeof buf, "\\x%02x", unsigned(c));
            else if (c < 0x10000) std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(c));
            else std::snprintf(buf, sizeof buf, "\\U%08x", unsigned(c));
            out += buf;
        }
    }
    out += quote;
    return out;
}

// Python's float repr: the shortest digits that round-trip, fixed notation for exponents in
// [-4, 16), scientific (with a two-digit exponent minimum) otherwise.
std::string py_float_repr(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string sci(buf, res.ptr);
    size_t epos = sci.find('e');
    std::string mant = sci.substr(0, epos);
    int exp = std::stoi(sci.substr(epos + 1));
    bool neg = !mant.empty() && mant[0] == '-';
    if (neg) mant.erase(0, 1);
    std::string digits;
    for (char c : mant)
        if (c != '.') digits += c;
    std::string out = neg ? "-" : "";
    if (exp >= -4 && exp < 16) {
        if (exp < 0) {
            out += "0." + std::string(size_t(-exp - 1), '0') + digits;
        } else if (size_t(exp) + 1 >= digits.size()) {
            out += digits + std::string(size_t(exp) + 1 - digits.size(), '0') + ".0";
        } else {
            out += digits.substr(0, exp + 1) + "." + digits.substr(exp + 1);
        }
        return out;
    }
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char ebuf[16];
    std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    return out + ebuf;
}

std::string repr(const Value& v) {
    NestGuard guard;
    switch (v.kind) {
        case Kind::Undefined: return "Undefined";
        case Kind::None: return "None";
        case Kind::Bool: return v.b ? "True" : "False";
        case Kind::Int: return std::to_string(v.i);
        case Kind::Float: return py_float_repr(v.f);
        case Kind::String: return py_string_repr(v.s);
        case Kind::List: case Kind::Tuple: {
            if (v.generator) return "<generator object>";  // jinja2 prints an address here
            bool tuple = v.kind == Kind::Tuple;
            std::string out = tuple ? "(" : "[";
            for (size_t i = 0; i < v.list->size(); ++i) {
                if (i) out += ", ";
                out += repr((*v.list)[i]);
            }
            if (tuple && v.list->size() == 1) out += ",";
            return out + (tuple ? ")" : "]");
        }
        case Kind::Dict: {
            std::string out = "{";
            bool first = true;
            for (const auto& [k, val] : v.dict->items) {
                if (!first) out += ", ";
                first = false;
                out += repr(k) + ": " + repr(val);
            }
            return out + "}";
        }
        case Kind::Object: return v.obj->repr();
        case Kind::Function: return "<function " + v.fn->name + ">";
    }
    return "";
}

std::string to_str(const Value& v) {
    if (v.kind == Kind::String) return v.s;
    if (v.kind == Kind::Undefined) return "";
    return repr(v);
}

}  // namespace llcuda::tmpl
