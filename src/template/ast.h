// Syntax tree of a parsed template. Every node keeps its line and column so that runtime errors
// (undefined attribute, raise_exception, type errors, limits) can point at the template source.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "template/value.h"

namespace llcuda::tmpl {

enum class ExprKind : uint8_t {
    Const,    // constant
    Name,     // name
    Attr,     // args[0].name
    Item,     // args[0][args[1]]
    Slice,    // args[0][args[1]:args[2]:args[3]] (null parts allowed)
    Call,     // args[0](args[1..], kwargs)
    Filter,   // args[0] | name(args[1..], kwargs); args[0] is null inside {% filter %} blocks
    Test,     // args[0] is [not] name(args[1..], kwargs)
    Not,      // not args[0]
    Neg,      // -args[0]
    Pos,      // +args[0]
    Binary,   // args[0] <name> args[1]: + - * / // % ** ~ and or
    Compare,  // args[0] ops[0] args[1] ops[1] args[2] ... (chained like Python)
    Cond,     // args[1] if args[0] else args[2] (args[2] may be null)
    List,     // [args...]
    Tuple,    // (args...)
    Dict,     // {args[0]: args[1], ...}
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
    ExprKind kind;
    int line = 0, col = 0;
    std::string name;
    Value constant;
    std::vector<ExprPtr> args;
    std::vector<std::string> kwnames;  // keyword argument names of Call/Filter/Test
    std::vector<ExprPtr> kwargs;
    std::vector<std::string> ops;  // Compare operators: == != < <= > >= in notin
    bool negated = false;          // Test: "is not"
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

// Left-hand side of set/for: one name, several names (tuple unpacking) or namespace.attr.
struct Target {
    std::vector<std::string> names;
    bool is_tuple = false;
    std::string attr;  // non-empty for `set ns.attr = ...`
};

enum class StmtKind : uint8_t {
    Text,        // text
    Print,       // {{ expr }}
    If,          // branches (cond, body); else_body
    For,         // for target in expr [if filter] body [else else_body]
    Set,         // set target = expr
    SetBlock,    // set target [| filters] ... endset (filter = filter chain over null operand)
    Macro,       // macro name(params=defaults) body
    CallBlock,   // call(params) expr body: `caller` inside the called macro renders body
    FilterBlock, // filter chain body
    With,        // with names=values body
    Break,
    Continue,
    Scope,       // a body rendered in its own scope ({% generation %} from transformers)
};

struct Stmt {
    StmtKind kind;
    int line = 0, col = 0;
    std::string text;  // Text data, Macro name
    ExprPtr expr;      // Print/Set value, For iterable, CallBlock call
    ExprPtr filter;    // For `if` filter, SetBlock/FilterBlock filter chain
    Target target;
    std::vector<std::pair<ExprPtr, Body>> branches;  // If
    Body body, else_body;
    std::vector<std::string> params;  // Macro/CallBlock parameters, With names
    std::vector<ExprPtr> defaults;    // aligned with params (null when none), With values
    bool recursive = false;
};

struct Program {
    Body body;
};

}  // namespace llcuda::tmpl
