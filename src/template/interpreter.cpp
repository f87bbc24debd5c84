// Tree-walking interpreter; see interpreter.h for the scoping rules and limits.
#include "template/interpreter.h"

#include <algorithm>

#include <fmt/format.h>

#include "template/lexer.h"
#include "template/loop.h"
#include "template/utf8.h"

namespace llcuda::tmpl {

const Value* Frame::lookup(const std::string& name) const {
    for (const Frame* f = this; f; f = f->parent.get()) {
        auto it = f->vars.find(name);
        if (it != f->vars.end()) return &it->second;
    }
    return nullptr;
}

static FramePtr child(const FramePtr& parent) {
    auto f = std::make_shared<Frame>();
    f->parent = parent;
    return f;
}

Interpreter::Interpreter(Limits limits, std::function<std::chrono::system_clock::time_point()> now)
    : limits_(limits), now_(std::move(now)) {}

Interpreter::~Interpreter() {
    for (auto& w : tracked_)
        if (auto o = w.lock()) o->clear();
}

void Interpreter::track(const std::shared_ptr<Object>& ns) {
    if (tracked_.size() >= prune_at_) {  // drop namespaces already gone; amortised O(1)
        std::erase_if(tracked_, [](const std::weak_ptr<Object>& w) { return w.expired(); });
        prune_at_ = std::max<size_t>(64, tracked_.size() * 2);
    }
    tracked_.push_back(ns);
}

void Interpreter::check_size(size_t bytes) const {
    if (bytes > limits_.max_string_bytes)
        fail(ErrorKind::InvalidArgument, fmt::format("value too large ({} bytes, limit {})", bytes, limits_.max_string_bytes));
}

void Interpreter::count_iteration() {
    if (++iterations_ > limits_.max_loop_iterations)
        fail(ErrorKind::InvalidArgument, fmt::format("too many loop iterations (limit {})", limits_.max_loop_iterations));
}

void Interpreter::append(std::string& out, std::string_view text) {
    output_size_ += text.size();
    if (output_size_ > limits_.max_output_bytes)
        fail(ErrorKind::InvalidArgument, fmt::format("template output too large (limit {} bytes)", limits_.max_output_bytes));
    out += text;
}

std::string Interpreter::render(const Program& program, FramePtr globals) {
    std::string out;
    exec(program.body, child(globals), out);
    return out;
}

[[noreturn]] static void rethrow_at(const TemplateError& e, int line, int col) {
    throw Error(e.kind, "chat template " + position_text(line, col) + ": " + e.what());
}

Value Interpreter::eval(const Expr& e, const FramePtr& frame) {
    try {
        return eval_inner(e, frame);
    } catch (const TemplateError& err) {
        rethrow_at(err, e.line, e.col);
    }
}

void Interpreter::args_of(const Expr& e, size_t first, const FramePtr& frame, CallArgs& out) {
    for (size_t i = first; i < e.args.size(); ++i) out.positional.push_back(eval(*e.args[i], frame));
    for (size_t i = 0; i < e.kwargs.size(); ++i) out.keyword.emplace_back(e.kwnames[i], eval(*e.kwargs[i], frame));
}

Value Interpreter::eval_inner(const Expr& e, const FramePtr& frame) {
    switch (e.kind) {
        case ExprKind::Const: return e.constant;
        case ExprKind::Name: {
            if (const Value* v = frame->lookup(e.name)) return *v;
            return Value::undefined("'" + e.name + "' is undefined");
        }
        case ExprKind::Attr: return get_attr(eval(*e.args[0], frame), e.name);
        case ExprKind::Item: {
            Value obj = eval(*e.args[0], frame);
            return get_item(obj, eval(*e.args[1], frame));
        }
        case ExprKind::Slice: {
            Value obj = eval(*e.args[0], frame);
            Value parts[3];
            for (int k = 0; k < 3; ++k) parts[k] = e.args[k + 1] ? eval(*e.args[k + 1], frame) : Value::none();
            if (obj.is_undefined()) raise_undefined(obj);
            if (obj.generator) return Value::undefined("'generator object' is not subscriptable");
            return slice_value(*this, obj, parts[0], parts[1], parts[2]);
        }
        case ExprKind::Call: {
            Value callee = eval(*e.args[0], frame);
            CallArgs args;
            args_of(e, 1, frame, args);
            return call(callee, args);
        }
        case ExprKind::Filter: return eval_filter_chain(e, frame, e.args[0] ? eval(*e.args[0], frame) : Value());
        case ExprKind::Test: {
            Value v = eval(*e.args[0], frame);
            CallArgs args;
            args_of(e, 1, frame, args);
            bool r = apply_test(*this, e.name, v, args);
            return Value::boolean(e.negated ? !r : r);
        }
        case ExprKind::Not: return Value::boolean(!truthy(eval(*e.args[0], frame)));
        case ExprKind::Neg:
        case ExprKind::Pos: {
            Value v = eval(*e.args[0], frame);
            if (v.is_undefined()) raise_undefined(v);
            bool neg = e.kind == ExprKind::Neg;
            if (v.kind == Kind::Float) return Value::number(neg ? -v.f : v.f);
            if (v.is_int()) {
                if (neg && v.as_int() == INT64_MIN) type_error("integer overflow");
                return Value::integer(neg ? -v.as_int() : v.as_int());
            }
            type_error(fmt::format("bad operand type for unary {}: '{}'", neg ? '-' : '+', type_label(v)));
        }
        case ExprKind::Binary: {
            Value l = eval(*e.args[0], frame);
            if (e.name == "and") return truthy(l) ? eval(*e.args[1], frame) : l;
            if (e.name == "or") return truthy(l) ? l : eval(*e.args[1], frame);
            Value r = eval(*e.args[1], frame);
            return binary_op(*this, e.name, l, r);
        }
        case ExprKind::Compare: {
            Value left = eval(*e.args[0], frame);
            for (size_t k = 0; k < e.ops.size(); ++k) {
                Value right = eval(*e.args[k + 1], frame);
                const std::string& op = e.ops[k];
                bool r;
                if (op == "==") r = equals(left, right);
                else if (op == "!=") r = !equals(left, right);
                else if (op == "<") r = less_than(left, right);
                else if (op == ">") r = less_than(right, left);
                else if (op == "<=") r = !less_than(right, left);
                else if (op == ">=") r = !less_than(left, right);
                else if (op == "in") r = contains(right, left);
                else r = !contains(right, left);
                if (!r) return Value::boolean(false);
                left = std::move(right);
            }
            return Value::boolean(true);
        }
        case ExprKind::Cond: {
            if (truthy(eval(*e.args[0], frame))) return eval(*e.args[1], frame);
            if (e.args[2]) return eval(*e.args[2], frame);
            return Value::undefined(fmt::format(
                "the inline if-expression on line {} evaluated to false and no else section was defined.", e.line));
        }
        case ExprKind::List:
        case ExprKind::Tuple: {
            std::vector<Value> items;
            items.reserve(e.args.size());
            for (const auto& a : e.args) items.push_back(eval(*a, frame));
            return e.kind == ExprKind::List ? Value::make_list(std::move(items)) : Value::make_tuple(std::move(items));
        }
        case ExprKind::Dict: {
            Dict d;
            for (size_t k = 0; k + 1 < e.args.size(); k += 2) {
                Value key = eval(*e.args[k], frame);
                if (key.kind == Kind::List || key.kind == Kind::Dict || key.kind == Kind::Undefined)
                    type_error("unhashable type: '" + type_label(key) + "'");
                d.set(std::move(key), eval(*e.args[k + 1], frame));
            }
            return Value::make_dict(std::move(d));
        }
    }
    return Value();
}

Value Interpreter::eval_filter_chain(const Expr& e, const FramePtr& frame, Value input) {
    CallArgs args;
    args_of(e, 1, frame, args);
    try {
        return apply_filter(*this, e.name, input, args);
    } catch (const TemplateError& err) {
        rethrow_at(err, e.line, e.col);
    }
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
    if (callee.is_undefined()) raise_undefined(callee);
    if (callee.kind != Kind::Function) type_error("'" + type_label(callee) + "' is not callable");
    if (++call_depth_ > limits_.max_call_depth) {
        --call_depth_;
        fail(ErrorKind::InvalidArgument, fmt::format("call depth limit exceeded ({}): infinite recursion?", limits_.max_call_depth));
    }
    struct Restore {
        int& d;
        ~Restore() { --d; }
    } restore{call_depth_};
    return callee.fn->call(*this, args);
}

Value Interpreter::get_attr(const Value& obj, const std::string& name) {
    if (obj.is_undefined()) raise_undefined(obj);
    if (obj.kind == Kind::Object) return obj.obj->get_attr(name);
    Value m = get_method(obj, name);
    if (m.kind == Kind::Function || !m.s.empty()) return m;  // a method, or an "unsafe" Undefined from the sandbox
    if (obj.kind == Kind::Dict)
        if (const Value* v = obj.dict->find(name)) return *v;
    return Value::undefined("'" + type_label(obj) + "' has no attribute '" + name + "'");
}

Value Interpreter::get_item(const Value& obj, const Value& key) {
    if (obj.is_undefined()) raise_undefined(obj);
    switch (obj.kind) {
        case Kind::Dict:
            if (const Value* v = obj.dict->find(key)) return *v;
            break;
        case Kind::List:
        case Kind::Tuple:
        case Kind::String:
            if (obj.generator) break;
            if (key.is_int()) {
                int64_t n = obj.kind == Kind::String ? int64_t(utf8_length(obj.s)) : int64_t(obj.list->size());
                int64_t i = key.as_int();
                if (i < 0) i += n;
                if (i >= 0 && i < n) {
                    if (obj.kind != Kind::String) return (*obj.list)[size_t(i)];
                    if (is_ascii(obj.s)) return Value::string(obj.s.substr(size_t(i), 1));
                    auto offs = utf8_offsets(obj.s);
                    return Value::string(obj.s.substr(offs[i], offs[i + 1] - offs[i]));
                }
                return Value::undefined(type_label(obj) + " has no element " + repr(key));
            }
            break;
        case Kind::Object:
            if (key.is_string()) return obj.obj->get_attr(key.s);
            break;
        default: break;
    }
    if (key.is_string()) return get_attr(obj, key.s);
    return Value::undefined(type_label(obj) + " has no element " + repr(key));
}

Flow Interpreter::exec(const Body& body, const FramePtr& frame, std::string& out) {
    for (const auto& s : body) {
        Flow f;
        try {
            f = exec_stmt(*s, frame, out);
        } catch (const TemplateError& err) {
            rethrow_at(err, s->line, s->col);
        }
        if (f != Flow::Normal) return f;
    }
    return Flow::Normal;
}

static void bind_target(const Target& t, Frame& frame, const Value& v) {
    if (!t.is_tuple) {
        frame.vars[t.names[0]] = v;
        return;
    }
    std::vector<Value> items = iterate(v);
    if (items.size() < t.names.size())
        type_error(fmt::format("not enough values to unpack (expected {}, got {})", t.names.size(), items.size()));
    if (items.size() > t.names.size()) type_error(fmt::format("too many values to unpack (expected {})", t.names.size()));
    for (size_t k = 0; k < items.size(); ++k) frame.vars[t.names[k]] = items[k];
}

void Interpreter::exec_set(const Stmt& s, const FramePtr& frame, Value v) {
    if (!s.target.attr.empty()) {
        const Value* ns = frame->lookup(s.target.names[0]);
        if (!ns || ns->kind != Kind::Object || ns->obj->type_name() != "Namespace")
            fail(ErrorKind::InvalidArgument, "cannot assign attribute on non-namespace object");
        ns->obj->set_attr(s.target.attr, std::move(v));
        return;
    }
    bind_target(s.target, *frame, v);
}

Flow Interpreter::exec_stmt(const Stmt& s, const FramePtr& frame, std::string& out) {
    switch (s.kind) {
        case StmtKind::Text: append(out, s.text); break;
        case StmtKind::Print: append(out, to_str(eval(*s.expr, frame))); break;
        case StmtKind::If:
            for (const auto& [cond, body] : s.branches)
                if (truthy(eval(*cond, frame))) return exec(body, frame, out);
            return exec(s.else_body, frame, out);
        case StmtKind::For: return exec_for(s, frame, out);
        case StmtKind::Set: exec_set(s, frame, eval(*s.expr, frame)); break;
        case StmtKind::SetBlock: {
            std::string buf;
            exec(s.body, child(frame), buf);
            Value v = Value::string(std::move(buf));
            if (s.filter) v = eval_filter_chain(*s.filter, frame, v);
            exec_set(s, frame, std::move(v));
            break;
        }
        case StmtKind::FilterBlock: {
            std::string buf;
            exec(s.body, child(frame), buf);
            append(out, to_str(eval_filter_chain(*s.filter, frame, Value::string(std::move(buf)))));
            break;
        }
        case StmtKind::Macro: frame->vars[s.text] = make_macro(s, frame, s.text); break;
        case StmtKind::CallBlock: {
            // The body becomes a `caller` macro passed to the called macro as a keyword argument.
            const Expr& c = *s.expr;
            Value callee = eval(*c.args[0], frame);
            CallArgs args;
            args_of(c, 1, frame, args);
            args.keyword.emplace_back("caller", make_macro(s, frame, "caller"));
            append(out, to_str(call(callee, args)));
            break;
        }
        case StmtKind::With: {
            auto inner = child(frame);
            for (size_t k = 0; k < s.params.size(); ++k) inner->vars[s.params[k]] = eval(*s.defaults[k], frame);
            return exec(s.body, inner, out);
        }
        case StmtKind::Scope: return exec(s.body, child(frame), out);
        case StmtKind::Break: return Flow::Break;
        case StmtKind::Continue: return Flow::Continue;
    }
    return Flow::Normal;
}

Flow Interpreter::exec_for(const Stmt& s, const FramePtr& frame, std::string& out) {
    Value seq = eval(*s.expr, frame);
    std::vector<Value> items = iterate(seq);
    if (s.filter) {
        // The `if` filter sees the loop variable but not `loop`; loop.length counts kept items.
        std::vector<Value> kept;
        for (auto& item : items) {
            count_iteration();
            auto f = child(frame);
            bind_target(s.target, *f, item);
            if (truthy(eval(*s.filter, f))) kept.push_back(std::move(item));
        }
        items = std::move(kept);
    }
    if (items.empty()) {
        exec(s.else_body, child(frame), out);
        return Flow::Normal;
    }
    auto shared_items = std::make_shared<const std::vector<Value>>(std::move(items));
    auto loop = std::make_shared<LoopObject>(shared_items);
    track(loop);  // loop.changed(loop) would make a cycle
    for (size_t k = 0; k < shared_items->size(); ++k) {
        count_iteration();
        auto f = child(frame);
        loop->index0 = k;
        // jinja2 binds `loop` first, so a loop variable named `loop` shadows it.
        f->vars["loop"] = Value::object(loop);
        bind_target(s.target, *f, (*shared_items)[k]);
        if (exec(s.body, f, out) == Flow::Break) break;
    }
    return Flow::Normal;
}

Value Interpreter::make_macro(const Stmt& s, const FramePtr& frame, const std::string& name) {
    const Stmt* def = &s;
    std::weak_ptr<Frame> weak = frame;  // a macro stored in its own frame must not keep it alive forever
    FramePtr strong = name == "caller" ? frame : nullptr;
    return Value::function(name, [def, weak, strong, name](Interpreter& in, CallArgs& args) -> Value {
        FramePtr parent = strong ? strong : weak.lock();
        if (!parent) fail(ErrorKind::InvalidArgument, "macro '" + name + "' called outside its scope");
        auto f = child(parent);
        size_t np = def->params.size();
        std::vector<Value> extra;
        for (size_t k = 0; k < args.positional.size(); ++k) {
            if (k < np) f->vars[def->params[k]] = args.positional[k];
            else extra.push_back(args.positional[k]);
        }
        Dict kwextra;
        for (auto& [k, v] : args.keyword) {
            bool found = false;
            for (size_t p = 0; p < np; ++p)
                if (def->params[p] == k) {
                    if (p < args.positional.size()) type_error("macro '" + name + "' got multiple values for argument '" + k + "'");
                    f->vars[k] = v;
                    found = true;
                }
            if (!found && k == "caller") {
                f->vars["caller"] = v;
                found = true;
            }
            if (!found) kwextra.set(Value::string(k), v);
        }
        for (size_t p = 0; p < np; ++p) {
            if (f->vars.count(def->params[p])) continue;
            f->vars[def->params[p]] = def->defaults[p] ? in.eval(*def->defaults[p], f)
                                                       : Value::undefined("parameter '" + def->params[p] + "' was not provided");
        }
        f->vars["varargs"] = Value::make_list(std::move(extra));
        f->vars["kwargs"] = Value::make_dict(std::move(kwextra));
        std::string out;
        in.exec(def->body, f, out);
        return Value::string(std::move(out));
    });
}

std::vector<Value> iterate(const Value& v) {
    switch (v.kind) {
        case Kind::Undefined: return {};
        case Kind::List:
        case Kind::Tuple: return *v.list;
        case Kind::Dict: {
            std::vector<Value> keys;
            keys.reserve(v.dict->items.size());
            for (const auto& kv : v.dict->items) keys.push_back(kv.first);
            return keys;
        }
        case Kind::String: {
            std::vector<Value> chars;
            for (size_t p = 0; p < v.s.size();) {
                size_t start = p;
                utf8_next(v.s, p);
                chars.push_back(Value::string(v.s.substr(start, p - start)));
            }
            return chars;
        }
        default: type_error("'" + type_label(v) + "' is not iterable");
    }
}

}  // namespace llcuda::tmpl
