// Global functions visible to templates: jinja2's range/dict/namespace/cycler/joiner and the
// helpers transformers adds (raise_exception, strftime_now).
#include <ctime>

#include "template/interpreter.h"
#include "template/loop.h"

namespace llcuda::tmpl {
namespace {

constexpr int64_t kMaxRange = 100000;  // jinja2's sandbox refuses larger ranges

Value g_range(Interpreter& in, CallArgs& a) {
    if (!a.keyword.empty()) type_error("range() takes no keyword arguments");
    for (const auto& v : a.positional)
        if (!v.is_int()) type_error("'" + type_label(v) + "' object cannot be interpreted as an integer");
    int64_t start = 0, stop = 0, step = 1;
    if (a.positional.size() == 1) stop = a.positional[0].as_int();
    else if (a.positional.size() == 2 || a.positional.size() == 3) {
        start = a.positional[0].as_int();
        stop = a.positional[1].as_int();
        if (a.positional.size() == 3) step = a.positional[2].as_int();
    } else {
        type_error("range expected 1 to 3 arguments");
    }
    if (step == 0) type_error("range() arg 3 must not be zero");
    __int128 count = step > 0 ? ((__int128)stop - start + step - 1) / step : ((__int128)start - stop - step - 1) / -step;
    if (count < 0) count = 0;
    if (count > kMaxRange)
        type_error("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
    std::vector<Value> out;
    for (int64_t k = 0; k < int64_t(count); ++k) out.push_back(Value::integer(int64_t(start + (__int128)k * step)));
    (void)in;
    return Value::make_list(std::move(out));
}

Dict dict_from(const CallArgs& a, const char* fname) {
    Dict d;
    if (a.positional.size() > 1) type_error(std::string(fname) + " expected at most 1 positional argument");
    if (!a.positional.empty()) {
        const Value& src = a.positional[0];
        if (src.is_dict()) {
            d = *src.dict;
        } else {
            for (const auto& pair : iterate(src)) {
                std::vector<Value> kv = iterate(pair);
                if (kv.size() != 2) type_error("dictionary update sequence element has wrong length");
                d.set(kv[0], kv[1]);
            }
        }
    }
    for (const auto& [k, v] : a.keyword) d.set(Value::string(k), v);
    return d;
}

Value g_dict(Interpreter&, CallArgs& a) { return Value::make_dict(dict_from(a, "dict")); }

Value g_namespace(Interpreter& in, CallArgs& a) {
    auto ns = std::make_shared<Namespace>();
    in.track(ns);
    Dict d = dict_from(a, "namespace");
    for (auto& [k, v] : d.items) {
        if (!k.is_string()) type_error("namespace keys must be strings");
        ns->set_attr(k.s, v);
    }
    return Value::object(ns);
}

Value g_raise_exception(Interpreter&, CallArgs& a) {
    const Value* msg = a.get(0, "message");
    fail(ErrorKind::InvalidArgument, msg ? to_str(*msg) : std::string("raise_exception called"));
}

Value g_strftime_now(Interpreter& in, CallArgs& a) {
    const Value* f = a.get(0, "format");
    if (!f || !f->is_string()) type_error("strftime_now() requires a format string");
    std::time_t t = std::chrono::system_clock::to_time_t(in.now());
    std::tm tm{};
    localtime_r(&t, &tm);
    if (f->s.empty()) return Value::string("");
    std::string buf(f->s.size() * 8 + 64, '\0');
    size_t n = std::strftime(buf.data(), buf.size(), f->s.c_str(), &tm);
    buf.resize(n);
    return Value::string(buf);
}

Value g_joiner(Interpreter&, CallArgs& a) {
    const Value* sep = a.get(0, "sep");
    auto used = std::make_shared<bool>(false);
    std::string s = sep ? to_str(*sep) : ", ";
    return Value::function("joiner", [used, s](Interpreter&, CallArgs&) {
        if (!*used) {
            *used = true;
            return Value::string("");
        }
        return Value::string(s);
    });
}

}  // namespace

void add_builtins(Frame& globals) {
    globals.vars["range"] = Value::function("range", g_range);
    globals.vars["dict"] = Value::function("dict", g_dict);
    globals.vars["namespace"] = Value::function("namespace", g_namespace);
    globals.vars["raise_exception"] = Value::function("raise_exception", g_raise_exception);
    globals.vars["strftime_now"] = Value::function("strftime_now", g_strftime_now);
    globals.vars["joiner"] = Value::function("joiner", g_joiner);
}

}  // namespace llcuda::tmpl
