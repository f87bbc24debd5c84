// Methods callable on values from templates: the non-mutating str, dict and list methods.
// Mutating methods are what jinja2's ImmutableSandboxedEnvironment refuses: looking them up gives
// an Undefined whose use fails with a security message, exactly like the sandbox.
#include <algorithm>

#include "template/interpreter.h"
#include "template/pyformat.h"
#include "template/strings.h"
#include "template/utf8.h"

namespace llcuda::tmpl {
namespace {

using Method = Value (*)(Interpreter&, const Value&, CallArgs&);

const std::string& str_arg(const CallArgs& a, size_t pos, std::string_view name, const std::string& fname) {
    const Value* v = a.get(pos, name);
    if (!v) type_error(fname + "() missing required argument '" + std::string(name) + "'");
    if (!v->is_string()) type_error(fname + "() argument must be str, not " + type_label(*v));
    return v->s;
}
const std::string* opt_str(const CallArgs& a, size_t pos, std::string_view name) {
    const Value* v = a.get(pos, name);
    if (!v || v->is_none()) return nullptr;
    if (!v->is_string()) type_error("argument must be str or None, not " + type_label(*v));
    return &v->s;
}
int64_t opt_int(const CallArgs& a, size_t pos, std::string_view name, int64_t dflt) {
    const Value* v = a.get(pos, name);
    if (!v) return dflt;
    if (!v->is_int()) type_error("'" + type_label(*v) + "' cannot be interpreted as an integer");
    return v->as_int();
}

Value affix(const Value& self, const CallArgs& a, bool start, const char* fname) {
    a.check(fname, {"prefix"});
    const Value* p = a.get(0, "prefix");
    if (!p) type_error(std::string(fname) + "() takes at least 1 argument (0 given)");
    auto test = [&](const std::string& x) {
        if (x.size() > self.s.size()) return false;
        return start ? self.s.compare(0, x.size(), x) == 0 : self.s.compare(self.s.size() - x.size(), x.size(), x) == 0;
    };
    if (p->is_string()) return Value::boolean(test(p->s));
    if (p->kind == Kind::Tuple) {
        for (const auto& x : *p->list) {
            if (!x.is_string()) type_error("tuple for startswith must only contain str");
            if (test(x.s)) return Value::boolean(true);
        }
        return Value::boolean(false);
    }
    type_error(std::string(fname) + " first arg must be str or a tuple of str, not " + type_label(*p));
}

Value strings_list(const std::vector<std::string>& parts) {
    std::vector<Value> out;
    out.reserve(parts.size());
    for (const auto& p : parts) out.push_back(Value::string(p));
    return Value::make_list(std::move(out));
}

Value find_impl(const Value& self, const CallArgs& a, bool right, bool must) {
    const std::string& sub = str_arg(a, 0, "sub", "find");
    size_t at = right ? self.s.rfind(sub) : self.s.find(sub);
    if (at == std::string::npos) {
        if (must) type_error("substring not found");
        return Value::integer(-1);
    }
    return Value::integer(int64_t(utf8_length(std::string_view(self.s).substr(0, at))));
}

template <class Pred>
Value all_chars(const Value& self, Pred pred) {
    if (self.s.empty()) return Value::boolean(false);
    for (size_t p = 0; p < self.s.size();)
        if (!pred(utf8_next(self.s, p))) return Value::boolean(false);
    return Value::boolean(true);
}

Value case_check(const Value& self, bool want_lower) {
    bool any = false;
    for (size_t p = 0; p < self.s.size();) {
        char32_t c = utf8_next(self.s, p);
        if (want_lower ? cp_is_cased_upper(c) : cp_is_cased_lower(c)) return Value::boolean(false);
        if (want_lower ? cp_is_cased_lower(c) : cp_is_cased_upper(c)) any = true;
    }
    return Value::boolean(any);
}

Value str_method(Interpreter& in, const std::string& name, const Value& self, CallArgs& a) {
    if (name == "startswith") return affix(self, a, true, "startswith");
    if (name == "endswith") return affix(self, a, false, "endswith");
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
        a.check(name, {"chars"});
        return Value::string(py_strip(self.s, opt_str(a, 0, "chars"), name != "rstrip", name != "lstrip"));
    }
    if (name == "split" || name == "rsplit") {
        a.check(name, {"sep", "maxsplit"});
        return strings_list(py_split(self.s, opt_str(a, 0, "sep"), opt_int(a, 1, "maxsplit", -1), name == "rsplit"));
    }
    if (name == "splitlines") return strings_list(py_splitlines(self.s));
    if (name == "replace") {
        a.check(name, {"old", "new", "count"});
        return Value::string(py_replace(in, self.s, str_arg(a, 0, "old", name), str_arg(a, 1, "new", name), opt_int(a, 2, "count", -1)));
    }
    if (name == "upper") return Value::string(py_upper(self.s));
    if (name == "lower") return Value::string(py_lower(self.s));
    if (name == "title") return Value::string(py_title(self.s));
    if (name == "capitalize") return Value::string(py_capitalize(self.s));
    if (name == "format") return Value::string(py_brace_format(in, self.s, a));
    if (name == "find") return find_impl(self, a, false, false);
    if (name == "rfind") return find_impl(self, a, true, false);
    if (name == "index") return find_impl(self, a, false, true);
    if (name == "rindex") return find_impl(self, a, true, true);
    if (name == "count") {
        const std::string& sub = str_arg(a, 0, "sub", name);
        if (sub.empty()) return Value::integer(int64_t(utf8_length(self.s)) + 1);
        int64_t n = 0;
        for (size_t at = self.s.find(sub); at != std::string::npos; at = self.s.find(sub, at + sub.size())) ++n;
        return Value::integer(n);
    }
    if (name == "join") {
        const Value* it = a.get(0, "iterable");
        if (!it) type_error("join() takes exactly one argument");
        std::string out;
        bool first = true;
        for (const auto& x : iterate(*it)) {
            if (!x.is_string()) type_error("sequence item: expected str instance, " + type_label(x) + " found");
            if (!first) out += self.s;
            first = false;
            out += x.s;
            in.check_size(out.size());
        }
        return Value::string(std::move(out));
    }
    if (name == "removeprefix" || name == "removesuffix") {
        const std::string& x = str_arg(a, 0, "prefix", name);
        bool pre = name == "removeprefix";
        if (x.size() <= self.s.size() &&
            (pre ? self.s.compare(0, x.size(), x) == 0 : self.s.compare(self.s.size() - x.size(), x.size(), x) == 0))
            return Value::string(pre ? self.s.substr(x.size()) : self.s.substr(0, self.s.size() - x.size()));
        return self;
    }
    if (name == "isdigit" || name == "isnumeric" || name == "isdecimal") return all_chars(self, cp_is_digit);
    if (name == "isalpha") return all_chars(self, cp_is_alpha);
    if (name == "isalnum") return all_chars(self, cp_is_alnum);
    if (name == "isspace") return all_chars(self, py_isspace);
    if (name == "islower") return case_check(self, true);
    if (name == "isupper") return case_check(self, false);
    if (name == "zfill") {
        int64_t width = opt_int(a, 0, "width", 0);
        int64_t len = int64_t(utf8_length(self.s));
        if (width <= len) return self;
        in.check_size(size_t(width));
        std::string s = self.s;
        size_t at = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
        s.insert(at, size_t(width - len), '0');
        return Value::string(s);
    }
    if (name == "center" || name == "ljust" || name == "rjust") {
        int64_t width = opt_int(a, 0, "width", 0);
        const std::string* fill = opt_str(a, 1, "fillchar");
        std::string f = fill ? *fill : " ";
        if (utf8_length(f) != 1) type_error("The fill character must be exactly one character long");
        int64_t len = int64_t(utf8_length(self.s));
        if (width <= len) return self;
        in.check_size(size_t(width) * f.size());
        int64_t total = width - len, left = name == "ljust" ? 0 : name == "rjust" ? total : total / 2 + (total & width & 1);
        std::string out;
        for (int64_t k = 0; k < left; ++k) out += f;
        out += self.s;
        for (int64_t k = 0; k < total - left; ++k) out += f;
        return Value::string(out);
    }
    type_error("unknown str method " + name);
}

const char* const kStrMethods[] = {"startswith", "endswith", "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines",
                                   "replace", "upper", "lower", "title", "capitalize", "format", "find", "rfind", "index",
                                   "rindex", "count", "join", "removeprefix", "removesuffix", "isdigit", "isnumeric",
                                   "isdecimal", "isalpha", "isalnum", "isspace", "islower", "isupper", "zfill", "center",
                                   "ljust", "rjust"};

Value dict_method(Interpreter&, const std::string& name, const Value& self, CallArgs& a) {
    const Dict& d = *self.dict;
    if (name == "items") {
        std::vector<Value> out;
        for (const auto& [k, v] : d.items) out.push_back(Value::make_tuple({k, v}));
        return Value::make_list(std::move(out));
    }
    if (name == "keys" || name == "values") {
        std::vector<Value> out;
        for (const auto& [k, v] : d.items) out.push_back(name == "keys" ? k : v);
        return Value::make_list(std::move(out));
    }
    if (name == "get") {
        const Value* key = a.get(0, "key");
        if (!key) type_error("get expected at least 1 argument, got 0");
        if (const Value* v = d.find(*key)) return *v;
        const Value* dflt = a.get(1, "default");
        return dflt ? *dflt : Value::none();
    }
    if (name == "copy") return self;
    type_error("unknown dict method " + name);
}

Value list_method(Interpreter&, const std::string& name, const Value& self, CallArgs& a) {
    const Value* x = a.get(0, "value");
    if (!x) type_error(name + "() takes exactly one argument (0 given)");
    const auto& items = *self.list;
    if (name == "count") return Value::integer(std::count_if(items.begin(), items.end(), [&](const Value& v) { return equals(v, *x); }));
    for (size_t k = 0; k < items.size(); ++k)
        if (equals(items[k], *x)) return Value::integer(int64_t(k));
    type_error(repr(*x) + " is not in list");
}

bool in_list(const std::string& name, std::initializer_list<const char*> names) {
    for (const char* n : names)
        if (name == n) return true;
    return false;
}

Value bind(const Value& self, const std::string& name, Value (*impl)(Interpreter&, const std::string&, const Value&, CallArgs&)) {
    return Value::function(name, [self, name, impl](Interpreter& in, CallArgs& a) { return impl(in, name, self, a); });
}

Value unsafe(const Value& self, const std::string& name) {
    return Value::undefined("access to attribute '" + name + "' of '" + type_label(self).substr(0, type_label(self).find(' ')) +
                            "' object is unsafe.");
}

}  // namespace

Value get_method(const Value& obj, const std::string& name) {
    if (name.size() >= 2 && name[0] == '_' && name[1] == '_') return unsafe(obj, name);
    switch (obj.kind) {
        case Kind::String:
            for (const char* m : kStrMethods)
                if (name == m) return bind(obj, name, str_method);
            break;
        case Kind::Dict:
            if (in_list(name, {"items", "keys", "values", "get", "copy"})) return bind(obj, name, dict_method);
            if (in_list(name, {"clear", "pop", "popitem", "setdefault", "update"})) return unsafe(obj, name);
            break;
        case Kind::List:
        case Kind::Tuple:
            if (obj.generator) break;
            if (in_list(name, {"index", "count"})) return bind(obj, name, list_method);
            if (obj.kind == Kind::List && in_list(name, {"append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"}))
                return unsafe(obj, name);
            break;
        default: break;
    }
    return Value();
}

}  // namespace llcuda::tmpl
