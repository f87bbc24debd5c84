// Tree-walking interpreter for parsed templates.
//
// Scoping follows jinja2: `if` shares its scope, every for-loop iteration, macro call, `with`
// and block `set` body gets a fresh child scope (assignments inside do not leak out, which is why
// templates use namespace()), and macros see their defining scope as it is when they are called.
// Every resource a hostile template could exhaust is bounded (see Limits) and reported as an
// llcuda::Error with the template position instead of crashing or hanging.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "template/ast.h"
#include "template/value.h"

namespace llcuda::tmpl {

struct Limits {
    size_t max_output_bytes = 64u << 20;
    size_t max_string_bytes = 64u << 20;   // any single string or list built at runtime
    uint64_t max_loop_iterations = 10'000'000;  // all loop iterations of one render together
    int max_call_depth = 200;              // nested macro calls (recursion)
};

struct Frame {
    std::unordered_map<std::string, Value> vars;
    std::shared_ptr<Frame> parent;
    const Value* lookup(const std::string& name) const;
};
using FramePtr = std::shared_ptr<Frame>;

enum class Flow { Normal, Break, Continue };

class Interpreter {
public:
    Interpreter(Limits limits, std::function<std::chrono::system_clock::time_point()> now);
    ~Interpreter();
    Interpreter(const Interpreter&) = delete;
    Interpreter& operator=(const Interpreter&) = delete;

    // Namespaces can be made to reference themselves (`set ns.me = ns`), a shared_ptr cycle; the
    // interpreter remembers them and empties them when the render ends, so nothing leaks.
    void track(const std::shared_ptr<Object>& ns);

    // Renders `program` with `globals` (the caller's variables and builtins) as the outer scope.
    std::string render(const Program& program, FramePtr globals);

    Value eval(const Expr& e, const FramePtr& frame);
    Flow exec(const Body& body, const FramePtr& frame, std::string& out);

    Value call(const Value& callee, CallArgs& args);
    Value get_attr(const Value& obj, const std::string& name);
    Value get_item(const Value& obj, const Value& key);

    // Guards for sizes built at runtime; they fail with a clear message when a limit is exceeded.
    void check_size(size_t bytes) const;
    void count_iteration();
    std::chrono::system_clock::time_point now() const { return now_(); }
    const Limits& limits() const { return limits_; }

private:
    Limits limits_;
    std::function<std::chrono::system_clock::time_point()> now_;
    uint64_t iterations_ = 0;
    int call_depth_ = 0;
    size_t output_size_ = 0;
    std::vector<std::weak_ptr<Object>> tracked_;
    size_t prune_at_ = 64;

    Value eval_inner(const Expr& e, const FramePtr& frame);
    Flow exec_stmt(const Stmt& s, const FramePtr& frame, std::string& out);
    Flow exec_for(const Stmt& s, const FramePtr& frame, std::string& out);
    void exec_set(const Stmt& s, const FramePtr& frame, Value v);
    Value make_macro(const Stmt& s, const FramePtr& frame, const std::string& name);
    Value eval_filter_chain(const Expr& e, const FramePtr& frame, Value input);
    void args_of(const Expr& e, size_t first, const FramePtr& frame, CallArgs& out);
    void append(std::string& out, std::string_view text);
};

// Iterating a value like Python's iter(): list items, dict keys, string characters; Undefined
// iterates as empty (jinja2's Undefined is iterable).
std::vector<Value> iterate(const Value& v);

// Arithmetic and comparison operators with Python semantics (ops.cpp).
Value binary_op(Interpreter& in, const std::string& op, const Value& a, const Value& b);
bool contains(const Value& container, const Value& item);

// Filters, tests, methods and globals (filters.cpp, tests.cpp, methods.cpp, builtins.cpp).
bool filter_exists(const std::string& name);
Value apply_filter(Interpreter& in, const std::string& name, const Value& v, CallArgs& args);
bool test_exists(const std::string& name);
bool apply_test(Interpreter& in, const std::string& name, const Value& v, CallArgs& args);
// A bound method of a string, dict or list (Undefined when the type has no such method).
Value get_method(const Value& obj, const std::string& name);
void add_builtins(Frame& globals);

// Python slicing, shared by strings, lists and the slice filter.
Value slice_value(Interpreter& in, const Value& v, const Value& start, const Value& stop, const Value& step);

}  // namespace llcuda::tmpl
