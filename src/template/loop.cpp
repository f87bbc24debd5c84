// loop.* attributes and namespace objects; see loop.h.
#include "template/loop.h"

#include <fmt/format.h>

namespace llcuda::tmpl {

Value LoopObject::get_attr(std::string_view name) {
    const size_t n = items_->size();
    const size_t i = index0;
    if (name == "index") return Value::integer(int64_t(i + 1));
    if (name == "index0") return Value::integer(int64_t(i));
    if (name == "revindex") return Value::integer(int64_t(n - i));
    if (name == "revindex0") return Value::integer(int64_t(n - i - 1));
    if (name == "first") return Value::boolean(i == 0);
    if (name == "last") return Value::boolean(i + 1 == n);
    if (name == "length") return Value::integer(int64_t(n));
    if (name == "depth") return Value::integer(1);
    if (name == "depth0") return Value::integer(0);
    if (name == "previtem") return i > 0 ? (*items_)[i - 1] : Value::undefined("there is no previous item");
    if (name == "nextitem") return i + 1 < n ? (*items_)[i + 1] : Value::undefined("there is no next item");
    if (name == "cycle") {
        size_t idx = i;
        return Value::function("cycle", [idx](Interpreter&, CallArgs& args) -> Value {
            if (args.positional.empty()) type_error("no items for cycling given");
            return args.positional[idx % args.positional.size()];
        });
    }
    if (name == "changed") {
        // Shares state with the loop object: true when the arguments differ from the last call.
        auto state = changed_;
        return Value::function("changed", [state](Interpreter&, CallArgs& args) -> Value {
            Value now = Value::make_list(args.positional);
            if (state->called && equals(now, state->last)) return Value::boolean(false);
            state->called = true;
            state->last = now;
            return Value::boolean(true);
        });
    }
    return Value::undefined("'LoopContext object' has no attribute '" + std::string(name) + "'");
}

std::string LoopObject::repr() const { return fmt::format("<LoopContext {}/{}>", index0 + 1, items_->size()); }

Value Namespace::get_attr(std::string_view name) {
    if (const Value* v = attrs.find(name)) return *v;
    return Value::undefined("'Namespace object' has no attribute '" + std::string(name) + "'");
}

void Namespace::set_attr(const std::string& name, Value value) {
    // transformers' TemplateNamespace refuses underscore names (a sandbox-escape guard).
    if (!name.empty() && name[0] == '_')
        fail(ErrorKind::InvalidArgument, "Chat templates cannot store underscore-prefixed attributes on a namespace, but got '" + name + "'");
    attrs.set(Value::string(name), std::move(value));
}

std::string Namespace::repr() const { return "<Namespace " + tmpl::repr(Value::make_dict(attrs)) + ">"; }

}  // namespace llcuda::tmpl
