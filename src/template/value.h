// Runtime values of the template interpreter, modelled on the Python objects jinja2 handles.
//
// Chat templates only ever see JSON-like data (transformers converts everything to plain dicts,
// lists, strings and numbers), plus a few jinja2 objects: Undefined, namespace(), the loop
// context, macros and bound methods. Output must be byte-identical to jinja2, so str(), repr(),
// equality, ordering and truthiness follow Python's rules rather than JSON's.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "llcuda/error.h"

namespace llcuda::tmpl {

// Thrown by value operations, filters and builtins, which do not know where in the template they
// run; the interpreter catches it and rethrows an llcuda::Error naming the line and column.
struct TemplateError : std::runtime_error {
    TemplateError(ErrorKind k, const std::string& msg) : std::runtime_error(msg), kind(k) {}
    ErrorKind kind;
};
[[noreturn]] void fail(ErrorKind kind, const std::string& message);
[[noreturn]] inline void type_error(const std::string& message) { fail(ErrorKind::InvalidArgument, message); }

class Interpreter;
struct Value;
struct Dict;
struct Object;
struct Function;

enum class Kind : uint8_t { Undefined, None, Bool, Int, Float, String, List, Tuple, Dict, Object, Function };

struct Value {
    Kind kind = Kind::Undefined;
    bool b = false;
    int64_t i = 0;
    double f = 0;
    std::string s;  // the text of a String; for Undefined, the message jinja2 would raise on use
    std::shared_ptr<const std::vector<Value>> list;  // List and Tuple (immutable: the sandbox forbids mutation)
    // A List standing for a Python generator, which jinja2's map/select/unique/batch/items/reverse
    // filters return: always truthy, no len(), not indexable, not equal to a list.
    bool generator = false;
    std::shared_ptr<const Dict> dict;
    std::shared_ptr<Object> obj;  // mutable: namespace attributes can be assigned
    std::shared_ptr<const Function> fn;

    static Value undefined(std::string message = "value is undefined");
    static Value none();
    static Value boolean(bool v);
    static Value integer(int64_t v);
    static Value number(double v);
    static Value string(std::string v);
    static Value make_list(std::vector<Value> items);
    static Value make_tuple(std::vector<Value> items);
    static Value make_generator(std::vector<Value> items);
    static Value make_dict(Dict d);
    static Value object(std::shared_ptr<Object> o);
    static Value function(std::string name, std::function<Value(Interpreter&, struct CallArgs&)> fn);

    bool is_undefined() const { return kind == Kind::Undefined; }
    bool is_none() const { return kind == Kind::None; }
    bool is_string() const { return kind == Kind::String; }
    bool is_int() const { return kind == Kind::Int || kind == Kind::Bool; }  // Python bool is an int
    bool is_number() const { return kind == Kind::Int || kind == Kind::Bool || kind == Kind::Float; }
    bool is_sequence() const { return kind == Kind::List || kind == Kind::Tuple; }
    bool is_dict() const { return kind == Kind::Dict; }
    double as_double() const { return kind == Kind::Float ? f : kind == Kind::Bool ? (b ? 1 : 0) : double(i); }
    int64_t as_int() const { return kind == Kind::Bool ? (b ? 1 : 0) : i; }
};

// An insertion-ordered mapping, like a Python dict (JSON objects keep their key order).
struct Dict {
    std::vector<std::pair<Value, Value>> items;
    const Value* find(const Value& key) const;
    const Value* find(std::string_view key) const;
    void set(Value key, Value value);
};

// Objects with attributes: namespace() and the loop context.
struct Object {
    virtual ~Object() = default;
    virtual std::string type_name() const = 0;
    virtual Value get_attr(std::string_view name) = 0;  // Undefined when missing
    virtual void set_attr(const std::string& name, Value value);
    virtual std::string repr() const = 0;
    // Drops held values at the end of a render, breaking reference cycles.
    virtual void clear() {}
};

// Arguments of a call: positional, then keyword in source order.
struct CallArgs {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> keyword;

    // The argument at `pos` or named `name`; null when absent. Used by builtins with Python signatures.
    const Value* get(size_t pos, std::string_view name) const;
    // Fails when more positional arguments or unknown keywords were given than the signature names.
    void check(const std::string& fname, std::initializer_list<std::string_view> names) const;
};

struct Function {
    std::string name;
    std::function<Value(Interpreter&, CallArgs&)> call;
};

bool truthy(const Value& v);
bool equals(const Value& a, const Value& b);
// Python ordering (<); fails with a TypeError message for incomparable types.
bool less_than(const Value& a, const Value& b);
std::string to_str(const Value& v);  // Python str(); Undefined gives ""
std::string repr(const Value& v);    // Python repr()
std::string py_string_repr(std::string_view s);
std::string py_float_repr(double d);
// jinja2's name for a value's type in error messages, e.g. "dict object".
std::string type_label(const Value& v);
// Bounds the recursion of repr/equality/JSON over nested values (a namespace can be made to
// contain itself, or lists nested thousands deep), failing cleanly instead of overflowing the stack.
struct NestGuard {
    NestGuard();
    ~NestGuard();
};

// Throws the UndefinedError jinja2 raises when an Undefined is used (attribute, call, arithmetic).
[[noreturn]] void raise_undefined(const Value& v);

}  // namespace llcuda::tmpl
