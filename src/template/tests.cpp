// jinja2's builtin tests (`x is defined`, `x is string`, `x is divisibleby 3`, ...).
#include <cmath>
#include <unordered_map>

#include "template/interpreter.h"
#include "template/utf8.h"

namespace llcuda::tmpl {
namespace {

using TestFn = bool (*)(Interpreter&, const Value&, const CallArgs&);

const Value& arg0(const CallArgs& a, const char* test) {
    const Value* v = a.get(0, "other");
    if (!v) v = a.get(0, "value");
    if (!v) type_error(std::string("test '") + test + "' requires an argument");
    return *v;
}

bool t_defined(Interpreter&, const Value& v, const CallArgs&) { return !v.is_undefined(); }
bool t_undefined(Interpreter&, const Value& v, const CallArgs&) { return v.is_undefined(); }
bool t_none(Interpreter&, const Value& v, const CallArgs&) { return v.is_none(); }
bool t_boolean(Interpreter&, const Value& v, const CallArgs&) { return v.kind == Kind::Bool; }
bool t_true(Interpreter&, const Value& v, const CallArgs&) { return v.kind == Kind::Bool && v.b; }
bool t_false(Interpreter&, const Value& v, const CallArgs&) { return v.kind == Kind::Bool && !v.b; }
bool t_integer(Interpreter&, const Value& v, const CallArgs&) { return v.kind == Kind::Int; }
bool t_float(Interpreter&, const Value& v, const CallArgs&) { return v.kind == Kind::Float; }
bool t_number(Interpreter&, const Value& v, const CallArgs&) { return v.is_number(); }
bool t_string(Interpreter&, const Value& v, const CallArgs&) { return v.is_string(); }
bool t_mapping(Interpreter&, const Value& v, const CallArgs&) { return v.is_dict(); }
// Undefined counts as iterable and as a sequence in jinja2 (it defines __iter__, __len__, __getitem__).
bool t_iterable(Interpreter&, const Value& v, const CallArgs&) {
    return v.is_undefined() || v.is_string() || v.is_sequence() || v.is_dict();
}
bool t_sequence(Interpreter& in, const Value& v, const CallArgs& a) { return !v.generator && t_iterable(in, v, a); }
// Undefined defines __call__ (it raises), so Python's callable() says yes.
bool t_callable(Interpreter&, const Value& v, const CallArgs&) { return v.kind == Kind::Function || v.is_undefined(); }
bool t_escaped(Interpreter&, const Value&, const CallArgs&) { return false; }
bool t_sameas(Interpreter&, const Value& v, const CallArgs& a) {
    const Value& o = arg0(a, "sameas");
    // Python `is`: identity. Singletons (None, True, False) and shared containers compare equal.
    if (v.kind != o.kind) return false;
    switch (v.kind) {
        case Kind::None: case Kind::Undefined: return true;
        case Kind::Bool: return v.b == o.b;
        case Kind::Int: return v.i == o.i && v.i >= -5 && v.i <= 256;  // CPython's small-int cache
        case Kind::List: case Kind::Tuple: return v.list == o.list;
        case Kind::Dict: return v.dict == o.dict;
        case Kind::Object: return v.obj == o.obj;
        case Kind::Function: return v.fn == o.fn;
        default: return false;
    }
}
bool t_eq(Interpreter&, const Value& v, const CallArgs& a) { return equals(v, arg0(a, "eq")); }
bool t_ne(Interpreter&, const Value& v, const CallArgs& a) { return !equals(v, arg0(a, "ne")); }
bool t_lt(Interpreter&, const Value& v, const CallArgs& a) { return less_than(v, arg0(a, "lt")); }
bool t_gt(Interpreter&, const Value& v, const CallArgs& a) { return less_than(arg0(a, "gt"), v); }
bool t_le(Interpreter&, const Value& v, const CallArgs& a) { return !less_than(arg0(a, "le"), v); }
bool t_ge(Interpreter&, const Value& v, const CallArgs& a) { return !less_than(v, arg0(a, "ge")); }
bool t_in(Interpreter&, const Value& v, const CallArgs& a) {
    const Value* seq = a.get(0, "seq");
    if (!seq) type_error("test 'in' requires an argument");
    return contains(*seq, v);
}
int64_t int_of(const Value& v, const char* test) {
    if (v.is_undefined()) raise_undefined(v);
    if (!v.is_int()) type_error(std::string("test '") + test + "' requires an integer");
    return v.as_int();
}
bool t_odd(Interpreter&, const Value& v, const CallArgs&) { return int_of(v, "odd") % 2 != 0; }
bool t_even(Interpreter&, const Value& v, const CallArgs&) { return int_of(v, "even") % 2 == 0; }
bool t_divisibleby(Interpreter&, const Value& v, const CallArgs& a) {
    const Value* n = a.get(0, "num");
    if (!n) type_error("test 'divisibleby' requires an argument");
    if (v.kind == Kind::Float || n->kind == Kind::Float) {
        if (n->as_double() == 0) type_error("float modulo");
        return std::fmod(v.as_double(), n->as_double()) == 0;
    }
    int64_t d = int_of(*n, "divisibleby");
    if (d == 0) type_error("integer division or modulo by zero");
    if (d == -1) return true;
    return int_of(v, "divisibleby") % d == 0;
}
bool t_lower(Interpreter&, const Value& v, const CallArgs&) {
    std::string s = to_str(v);
    bool any = false;
    for (size_t p = 0; p < s.size();) {
        char32_t c = utf8_next(s, p);
        if (cp_is_cased_upper(c)) return false;
        if (cp_is_cased_lower(c)) any = true;
    }
    return any;
}
bool t_upper(Interpreter&, const Value& v, const CallArgs&) {
    std::string s = to_str(v);
    bool any = false;
    for (size_t p = 0; p < s.size();) {
        char32_t c = utf8_next(s, p);
        if (cp_is_cased_lower(c)) return false;
        if (cp_is_cased_upper(c)) any = true;
    }
    return any;
}
bool t_filter(Interpreter&, const Value& v, const CallArgs&) { return v.is_string() && filter_exists(v.s); }
bool t_test(Interpreter&, const Value& v, const CallArgs&) { return v.is_string() && test_exists(v.s); }

const std::unordered_map<std::string, TestFn>& table() {
    static const std::unordered_map<std::string, TestFn> t = {
        {"defined", t_defined}, {"undefined", t_undefined}, {"none", t_none}, {"boolean", t_boolean},
        {"true", t_true}, {"false", t_false}, {"integer", t_integer}, {"float", t_float}, {"number", t_number},
        {"string", t_string}, {"mapping", t_mapping}, {"iterable", t_iterable}, {"sequence", t_sequence},
        {"callable", t_callable}, {"escaped", t_escaped}, {"sameas", t_sameas}, {"eq", t_eq}, {"equalto", t_eq},
        {"==", t_eq}, {"ne", t_ne}, {"!=", t_ne}, {"lt", t_lt}, {"lessthan", t_lt}, {"<", t_lt}, {"gt", t_gt},
        {"greaterthan", t_gt}, {">", t_gt}, {"le", t_le}, {"<=", t_le}, {"ge", t_ge}, {">=", t_ge}, {"in", t_in},
        {"odd", t_odd}, {"even", t_even}, {"divisibleby", t_divisibleby}, {"lower", t_lower}, {"upper", t_upper},
        {"filter", t_filter}, {"test", t_test},
    };
    return t;
}

}  // namespace

bool test_exists(const std::string& name) { return table().count(name) > 0; }

bool apply_test(Interpreter& in, const std::string& name, const Value& v, CallArgs& args) {
    auto it = table().find(name);
    if (it == table().end()) fail(ErrorKind::Unsupported, "no test named '" + name + "'");
    // Tests taking only the value reject extra arguments, as the Python functions do.
    static const char* const unary[] = {"defined", "undefined", "none", "boolean", "true", "false", "integer", "float",
                                        "number", "string", "mapping", "iterable", "sequence", "callable", "escaped",
                                        "odd", "even", "lower", "upper", "filter", "test"};
    size_t nargs = args.positional.size() + args.keyword.size();
    for (const char* u : unary)
        if (name == u && nargs > 0) type_error("test_" + name + "() takes 1 positional argument but " + std::to_string(nargs + 1) + " were given");
    if (nargs > 1) type_error("test '" + name + "' takes at most one argument");
    return it->second(in, v, args);
}

}  // namespace llcuda::tmpl
