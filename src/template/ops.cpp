// Binary operators, `in` and slicing with Python semantics (jinja2 delegates them to Python).
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

#include "template/interpreter.h"
#include "template/pyformat.h"
#include "template/utf8.h"

namespace llcuda::tmpl {

static std::string py_type(const Value& v) {
    std::string l = type_label(v);
    auto sp = l.find(" object");
    return sp == std::string::npos ? "NoneType" : l.substr(0, sp);
}

[[noreturn]] static void unsupported(const std::string& op, const Value& a, const Value& b) {
    type_error(fmt::format("unsupported operand type(s) for {}: '{}' and '{}'", op, py_type(a), py_type(b)));
}

static Value repeat(Interpreter& in, const Value& seq, int64_t n) {
    if (n < 0) n = 0;
    if (seq.kind == Kind::String) {
        in.check_size(seq.s.size() * size_t(n));
        std::string out;
        out.reserve(seq.s.size() * size_t(n));
        for (int64_t k = 0; k < n; ++k) out += seq.s;
        return Value::string(std::move(out));
    }
    in.check_size(seq.list->size() * size_t(n) * sizeof(Value));
    std::vector<Value> out;
    for (int64_t k = 0; k < n; ++k) out.insert(out.end(), seq.list->begin(), seq.list->end());
    return seq.kind == Kind::List ? Value::make_list(std::move(out)) : Value::make_tuple(std::move(out));
}

// Python ints never overflow; values beyond 64 bits are refused rather than wrapped.
static void check_overflow(bool overflow) {
    if (overflow) type_error("integer overflow (values beyond 64 bits are not supported)");
}

Value binary_op(Interpreter& in, const std::string& op, const Value& a, const Value& b) {
    if (op == "~") {
        std::string s = to_str(a) + to_str(b);
        in.check_size(s.size());
        return Value::string(std::move(s));
    }
    // str % x formats even when x is Undefined (str.__mod__ never asks the right operand).
    if (op == "%" && a.kind == Kind::String) return Value::string(py_percent_format(in, a.s, b));
    if (a.is_undefined()) raise_undefined(a);
    if (b.is_undefined()) raise_undefined(b);
    if (a.generator || b.generator) unsupported(op, a, b);
    const bool nums = a.is_number() && b.is_number();
    const bool ints = a.is_int() && b.is_int();
    int64_t r = 0;
    if (op == "+") {
        if (ints) {
            check_overflow(__builtin_add_overflow(a.as_int(), b.as_int(), &r));
            return Value::integer(r);
        }
        if (nums) return Value::number(a.as_double() + b.as_double());
        if (a.kind == Kind::String && b.kind == Kind::String) {
            in.check_size(a.s.size() + b.s.size());
            return Value::string(a.s + b.s);
        }
        if (a.is_sequence() && a.kind == b.kind) {
            in.check_size((a.list->size() + b.list->size()) * sizeof(Value));
            std::vector<Value> items = *a.list;
            items.insert(items.end(), b.list->begin(), b.list->end());
            return a.kind == Kind::List ? Value::make_list(std::move(items)) : Value::make_tuple(std::move(items));
        }
        if (a.kind == Kind::String) type_error("can only concatenate str (not \"" + py_type(b) + "\") to str");
        unsupported("+", a, b);
    }
    if (op == "-") {
        if (ints) {
            check_overflow(__builtin_sub_overflow(a.as_int(), b.as_int(), &r));
            return Value::integer(r);
        }
        if (nums) return Value::number(a.as_double() - b.as_double());
        unsupported("-", a, b);
    }
    if (op == "*") {
        if (ints) {
            check_overflow(__builtin_mul_overflow(a.as_int(), b.as_int(), &r));
            return Value::integer(r);
        }
        if (nums) return Value::number(a.as_double() * b.as_double());
        if ((a.kind == Kind::String || a.is_sequence()) && b.is_int()) return repeat(in, a, b.as_int());
        if ((b.kind == Kind::String || b.is_sequence()) && a.is_int()) return repeat(in, b, a.as_int());
        unsupported("*", a, b);
    }
    if (op == "/") {
        if (!nums) unsupported("/", a, b);
        if (b.as_double() == 0) type_error("division by zero");
        return Value::number(a.as_double() / b.as_double());
    }
    if (op == "//" || op == "%") {
        if (op == "%" && a.kind == Kind::String) return Value::string(py_percent_format(in, a.s, b));
        if (!nums) unsupported(op, a, b);
        if (ints) {
            int64_t x = a.as_int(), y = b.as_int();
            if (y == 0) type_error("integer division or modulo by zero");
            if (x == INT64_MIN && y == -1) type_error("integer overflow");
            int64_t q = x / y, m = x % y;
            if (m != 0 && ((m < 0) != (y < 0))) {
                --q;
                m += y;
            }
            return Value::integer(op == "//" ? q : m);
        }
        double x = a.as_double(), y = b.as_double();
        if (y == 0) type_error("float division by zero");
        if (op == "//") return Value::number(std::floor(x / y));
        double m = std::fmod(x, y);
        if (m != 0 && ((m < 0) != (y < 0))) m += y;
        if (m == 0) m = std::copysign(0.0, y);
        return Value::number(m);
    }
    if (op == "**") {
        if (!nums) unsupported("** or pow()", a, b);
        if (ints && b.as_int() >= 0) {
            int64_t base = a.as_int(), e = b.as_int(), acc = 1;
            while (e > 0) {
                if (e & 1) check_overflow(__builtin_mul_overflow(acc, base, &acc));
                e >>= 1;
                if (e) check_overflow(__builtin_mul_overflow(base, base, &base));
            }
            return Value::integer(acc);
        }
        if (a.as_double() == 0 && b.as_double() < 0) type_error("0.0 cannot be raised to a negative power");
        return Value::number(std::pow(a.as_double(), b.as_double()));
    }
    type_error("unknown operator " + op);
}

bool contains(const Value& container, const Value& item) {
    switch (container.kind) {
        case Kind::Undefined: return false;
        case Kind::String:
            if (!item.is_string()) type_error("'in <string>' requires string as left operand, not " + py_type(item));
            return container.s.find(item.s) != std::string::npos;
        case Kind::List:
        case Kind::Tuple:
            for (const auto& v : *container.list)
                if (equals(v, item)) return true;
            return false;
        case Kind::Dict:
            if (item.kind == Kind::List || item.kind == Kind::Dict) type_error("unhashable type: '" + py_type(item) + "'");
            return container.dict->find(item) != nullptr;
        default: type_error("argument of type '" + py_type(container) + "' is not iterable");
    }
}

// Python's slice.indices(): clamps start/stop for the given length and step.
static void slice_indices(int64_t n, const Value& start, const Value& stop, const Value& step, int64_t& s0, int64_t& s1,
                          int64_t& st) {
    auto as_index = [](const Value& v) -> int64_t {
        if (!v.is_int()) type_error("slice indices must be integers or None");
        return v.as_int();
    };
    st = step.is_none() ? 1 : as_index(step);
    if (st == 0) type_error("slice step cannot be zero");
    auto clamp = [&](const Value& v, int64_t dflt) -> int64_t {
        if (v.is_none()) return dflt;
        int64_t x = as_index(v);
        if (x < 0) {
            x += n;
            if (x < 0) x = st < 0 ? -1 : 0;
        } else if (x >= n) {
            x = st < 0 ? n - 1 : n;
        }
        return x;
    };
    s0 = clamp(start, st < 0 ? n - 1 : 0);
    s1 = clamp(stop, st < 0 ? -1 : n);
}

Value slice_value(Interpreter&, const Value& v, const Value& start, const Value& stop, const Value& step) {
    if (v.kind == Kind::String) {
        std::vector<size_t> offs = utf8_offsets(v.s);
        int64_t n = int64_t(offs.size()) - 1, s0, s1, st;
        slice_indices(n, start, stop, step, s0, s1, st);
        std::string out;
        if (st == 1) {
            if (s1 > s0) out = v.s.substr(offs[s0], offs[s1] - offs[s0]);
        } else {
            for (int64_t k = s0; st > 0 ? k < s1 : k > s1;) {
                out += v.s.substr(offs[k], offs[k + 1] - offs[k]);
                if (__builtin_add_overflow(k, st, &k)) break;
            }
        }
        return Value::string(std::move(out));
    }
    if (v.is_sequence()) {
        int64_t n = int64_t(v.list->size()), s0, s1, st;
        slice_indices(n, start, stop, step, s0, s1, st);
        std::vector<Value> out;
        for (int64_t k = s0; st > 0 ? k < s1 : k > s1;) {
            out.push_back((*v.list)[size_t(k)]);
            if (__builtin_add_overflow(k, st, &k)) break;
        }
        return v.kind == Kind::List ? Value::make_list(std::move(out)) : Value::make_tuple(std::move(out));
    }
    type_error("'" + type_label(v) + "' is not subscriptable");
}

}  // namespace llcuda::tmpl
