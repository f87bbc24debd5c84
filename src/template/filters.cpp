// jinja2's builtin filters, plus transformers' tojson (json.dumps with ensure_ascii=False).
// Filters returning generators in jinja2 (map, select, reverse, items, ...) return lists here:
// identical once joined, iterated or passed to |list, which is how templates consume them.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <unordered_map>

#include "template/interpreter.h"
#include "template/json.h"
#include "template/pyformat.h"
#include "template/strings.h"
#include "template/utf8.h"

namespace llcuda::tmpl {
namespace {

using FilterFn = Value (*)(Interpreter&, const Value&, CallArgs&);

bool arg_bool(const CallArgs& a, size_t pos, std::string_view name, bool dflt) {
    const Value* v = a.get(pos, name);
    return v ? truthy(*v) : dflt;
}

// jinja2's make_attrgetter: "a.b.0" looks up each dotted part, digits as integer indexes.
Value get_path(Interpreter& in, const Value& item, const Value& attribute) {
    if (!attribute.is_string()) return in.get_item(item, attribute);
    Value cur = item;
    size_t start = 0;
    const std::string& path = attribute.s;
    while (true) {
        size_t dot = path.find('.', start);
        std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        bool digits = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos && part.size() < 18;
        cur = in.get_item(cur, digits ? Value::integer(std::stoll(part)) : Value::string(part));
        if (dot == std::string::npos) return cur;
        start = dot + 1;
    }
}

Value sort_key(const Value& v, bool case_sensitive) {
    if (!case_sensitive && v.is_string()) return Value::string(py_lower(v.s));
    return v;
}

std::vector<Value> sorted_values(std::vector<Value> items, std::function<Value(const Value&)> key, bool reverse) {
    std::vector<std::pair<Value, size_t>> keyed;
    for (size_t k = 0; k < items.size(); ++k) keyed.emplace_back(key(items[k]), k);
    // Python's sort is stable, and reverse=True keeps equal elements in their original order.
    std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
        return reverse ? less_than(b.first, a.first) : less_than(a.first, b.first);
    });
    std::vector<Value> out;
    for (auto& [k, idx] : keyed) out.push_back(items[idx]);
    return out;
}

Value f_default(Interpreter&, const Value& v, CallArgs& a) {
    a.check("default", {"default_value", "boolean"});
    const Value* d = a.get(0, "default_value");
    if (v.is_undefined() || (arg_bool(a, 1, "boolean", false) && !truthy(v))) return d ? *d : Value::string("");
    return v;
}

Value f_length(Interpreter&, const Value& v, CallArgs&) {
    switch (v.kind) {
        case Kind::Undefined: return Value::integer(0);
        case Kind::String: return Value::integer(int64_t(utf8_length(v.s)));
        case Kind::List: case Kind::Tuple:
            if (v.generator) type_error("object of type 'generator' has no len()");
            return Value::integer(int64_t(v.list->size()));
        case Kind::Dict: return Value::integer(int64_t(v.dict->items.size()));
        default: break;
    }
    type_error("object of type '" + type_label(v).substr(0, type_label(v).find(' ')) + "' has no len()");
}

Value f_string(Interpreter&, const Value& v, CallArgs&) { return Value::string(to_str(v)); }
Value f_upper(Interpreter&, const Value& v, CallArgs&) { return Value::string(py_upper(to_str(v))); }
Value f_lower(Interpreter&, const Value& v, CallArgs&) { return Value::string(py_lower(to_str(v))); }
Value f_capitalize(Interpreter&, const Value& v, CallArgs&) { return Value::string(py_capitalize(to_str(v))); }
Value f_title(Interpreter&, const Value& v, CallArgs&) { return Value::string(jinja_title(to_str(v))); }
Value f_escape(Interpreter&, const Value& v, CallArgs&) { return Value::string(html_escape(to_str(v))); }
Value f_pprint(Interpreter&, const Value& v, CallArgs&) { return Value::string(repr(v)); }

Value f_trim(Interpreter&, const Value& v, CallArgs& a) {
    a.check("trim", {"chars"});
    const Value* chars = a.get(0, "chars");
    std::string cs = chars && !chars->is_none() ? to_str(*chars) : "";
    return Value::string(py_strip(to_str(v), chars && !chars->is_none() ? &cs : nullptr, true, true));
}

Value f_replace(Interpreter& in, const Value& v, CallArgs& a) {
    a.check("replace", {"old", "new", "count"});
    const Value* o = a.get(0, "old");
    const Value* n = a.get(1, "new");
    if (!o || !n) type_error("replace() missing required arguments");
    const Value* c = a.get(2, "count");
    int64_t count = c && !c->is_none() ? (c->is_int() ? c->as_int() : (type_error("count must be an integer"), 0)) : -1;
    return Value::string(py_replace(in, to_str(v), to_str(*o), to_str(*n), count));
}

Value f_safe(Interpreter&, const Value& v, CallArgs&) { return v.is_string() ? v : Value::string(to_str(v)); }

Value f_tojson(Interpreter& in, const Value& v, CallArgs& a) {
    a.check("tojson", {"ensure_ascii", "indent", "separators", "sort_keys"});
    JsonDumpOptions o;
    o.ensure_ascii = arg_bool(a, 0, "ensure_ascii", false);
    if (const Value* ind = a.get(1, "indent"); ind && !ind->is_none()) {
        if (ind->is_string()) o.indent = ind->s;
        else if (ind->is_int()) o.indent = std::string(size_t(std::clamp<int64_t>(ind->as_int(), 0, 1000)), ' ');
        else type_error("indent must be an int or a string");
    }
    if (const Value* sep = a.get(2, "separators"); sep && !sep->is_none()) {
        std::vector<Value> parts = iterate(*sep);
        if (parts.size() != 2 || !parts[0].is_string() || !parts[1].is_string()) type_error("separators must be a pair of strings");
        o.item_separator = parts[0].s;
        o.key_separator = parts[1].s;
    }
    o.sort_keys = arg_bool(a, 3, "sort_keys", false);
    std::string out = py_json_dumps(v, o);
    in.check_size(out.size());
    return Value::string(std::move(out));
}

Value f_join(Interpreter& in, const Value& v, CallArgs& a) {
    a.check("join", {"d", "attribute"});
    const Value* d = a.get(0, "d");
    std::string sep = d ? to_str(*d) : "";
    const Value* attr = a.get(1, "attribute");
    std::string out;
    bool first = true;
    for (const auto& x : iterate(v)) {
        if (!first) out += sep;
        first = false;
        out += to_str(attr && !attr->is_none() ? get_path(in, x, *attr) : x);
        in.check_size(out.size());
    }
    return Value::string(std::move(out));
}

Value f_list(Interpreter&, const Value& v, CallArgs&) { return Value::make_list(iterate(v)); }

Value f_first(Interpreter&, const Value& v, CallArgs&) {
    auto items = iterate(v);
    return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
}
Value f_last(Interpreter&, const Value& v, CallArgs&) {
    if (v.generator) type_error("'generator' object is not reversible");
    auto items = iterate(v);
    return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
}

Value f_reverse(Interpreter&, const Value& v, CallArgs&) {
    auto items = iterate(v);
    std::reverse(items.begin(), items.end());
    if (v.is_string()) {
        std::string out;
        for (const auto& c : items) out += c.s;
        return Value::string(out);
    }
    if (v.generator) return Value::make_list(std::move(items));  // jinja2 falls back to list(value)[::-1]
    return Value::make_generator(std::move(items));
}

Value f_items(Interpreter&, const Value& v, CallArgs&) {
    if (v.is_undefined()) return Value::make_generator({});
    if (!v.is_dict()) type_error("Can only get item pairs from a mapping.");
    std::vector<Value> out;
    for (const auto& [k, x] : v.dict->items) out.push_back(Value::make_tuple({k, x}));
    return Value::make_generator(std::move(out));
}

Value f_dictsort(Interpreter&, const Value& v, CallArgs& a) {
    a.check("dictsort", {"case_sensitive", "by", "reverse"});
    if (!v.is_dict()) type_error("dictsort requires a mapping");
    bool cs = arg_bool(a, 0, "case_sensitive", false);
    const Value* by = a.get(1, "by");
    int pos = 0;
    if (by && by->is_string() && by->s == "value") pos = 1;
    else if (by && !(by->is_string() && by->s == "key")) type_error("You can only sort by either \"key\" or \"value\"");
    std::vector<Value> pairs;
    for (const auto& [k, x] : v.dict->items) pairs.push_back(Value::make_tuple({k, x}));
    return Value::make_list(sorted_values(std::move(pairs), [&](const Value& p) { return sort_key((*p.list)[pos], cs); },
                                          arg_bool(a, 2, "reverse", false)));
}

Value f_sort(Interpreter& in, const Value& v, CallArgs& a) {
    a.check("sort", {"reverse", "case_sensitive", "attribute"});
    bool cs = arg_bool(a, 1, "case_sensitive", false);
    const Value* attr = a.get(2, "attribute");
    return Value::make_list(sorted_values(iterate(v), [&](const Value& x) {
        return sort_key(attr && !attr->is_none() ? get_path(in, x, *attr) : x, cs);
    }, arg_bool(a, 0, "reverse", false)));
}

Value f_unique(Interpreter& in, const Value& v, CallArgs& a) {
    a.check("unique", {"case_sensitive", "attribute"});
    bool cs = arg_bool(a, 0, "case_sensitive", false);
    const Value* attr = a.get(1, "attribute");
    std::vector<Value> out, seen;
    for (const auto& x : iterate(v)) {
        Value key = sort_key(attr && !attr->is_none() ? get_path(in, x, *attr) : x, cs);
        if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, key); })) continue;
        seen.push_back(key);
        out.push_back(x);
    }
    return Value::make_generator(std::move(out));
}

Value min_max(Interpreter& in, const Value& v, CallArgs& a, bool want_max) {
    a.check(want_max ? "max" : "min", {"case_sensitive", "attribute"});
    bool cs = arg_bool(a, 0, "case_sensitive", false);
    const Value* attr = a.get(1, "attribute");
    auto items = iterate(v);
    if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
    size_t best = 0;
    auto key = [&](const Value& x) { return sort_key(attr && !attr->is_none() ? get_path(in, x, *attr) : x, cs); };
    Value bk = key(items[0]);
    for (size_t k = 1; k < items.size(); ++k) {
        Value kk = key(items[k]);
        if (want_max ? less_than(bk, kk) : less_than(kk, bk)) {
            best = k;
            bk = kk;
        }
    }
    return items[best];
}
Value f_min(Interpreter& in, const Value& v, CallArgs& a) { return min_max(in, v, a, false); }
Value f_max(Interpreter& in, const Value& v, CallArgs& a) { return min_max(in, v, a, true); }

Value f_sum(Interpreter& in, const Value& v, CallArgs& a) {
    a.check("sum", {"attribute", "start"});
    const Value* attr = a.get(0, "attribute");
    const Value* start = a.get(1, "start");
    Value acc = start ? *start : Value::integer(0);
    for (const auto& x : iterate(v)) acc = binary_op(in, "+", acc, attr && !attr->is_none() ? get_path(in, x, *attr) : x);
    return acc;
}

Value f_abs(Interpreter&, const Value& v, CallArgs&) {
    if (v.kind == Kind::Float) return Value::number(std::fabs(v.f));
    if (v.is_int()) {
        if (v.as_int() == INT64_MIN) type_error("integer overflow");
        return Value::integer(std::llabs(v.as_int()));
    }
    type_error("bad operand type for abs(): '" + type_label(v) + "'");
}

// Python int(str): optional sign and whitespace, underscores between digits.
bool parse_py_int(const std::string& text, int base, int64_t& out) {
    std::string s = py_strip(text, nullptr, true, true);
    size_t p = 0;
    bool neg = false;
    if (p < s.size() && (s[p] == '+' || s[p] == '-')) neg = s[p++] == '-';
    if (p + 1 < s.size() && s[p] == '0') {  // a base prefix is allowed when it names the base
        char b = static_cast<char>(s[p + 1] | 0x20);
        if ((base == 16 && b == 'x') || (base == 8 && b == 'o') || (base == 2 && b == 'b')) {
            p += 2;
            if (p < s.size() && s[p] == '_') ++p;
        }
    }
    if (p >= s.size()) return false;
    unsigned __int128 v = 0;
    bool prev_digit = false;
    for (; p < s.size(); ++p) {
        char c = s[p];
        if (c == '_' && prev_digit && p + 1 < s.size()) {
            prev_digit = false;
            continue;
        }
        int d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'z' ? (c | 0x20) - 'a' + 10 : 99;
        if (d >= base) return false;
        v = v * base + d;
        if (v > (unsigned __int128)INT64_MAX + 1) return false;
        prev_digit = true;
    }
    if (!prev_digit) return false;
    if (!neg && v > INT64_MAX) return false;
    out = neg ? int64_t(-(__int128)v) : int64_t(v);
    return true;
}

bool parse_py_float(const std::string& text, double& out) {
    std::string s = py_strip(text, nullptr, true, true);
    if (s.empty()) return false;
    std::string clean;
    for (size_t k = 0; k < s.size(); ++k)
        if (s[k] != '_') clean += s[k];
    std::string low = py_lower(clean);
    size_t sign = !low.empty() && (low[0] == '+' || low[0] == '-') ? 1 : 0;
    std::string body = low.substr(sign);
    if (body == "inf" || body == "infinity" || body == "nan") {
        out = body == "nan" ? NAN : INFINITY;
        if (low[0] == '-') out = -out;
        return true;
    }
    if (body.find_first_not_of("0123456789.e+-") != std::string::npos) return false;
    char* end = nullptr;
    out = std::strtod(clean.c_str(), &end);
    return end && *end == '\0';
}

Value f_int(Interpreter&, const Value& v, CallArgs& a) {
    a.check("int", {"default", "base"});
    const Value* d = a.get(0, "default");
    Value dflt = d ? *d : Value::integer(0);
    int64_t base = 10;
    if (const Value* b = a.get(1, "base"); b && b->is_int()) base = b->as_int();
    if (v.is_undefined()) raise_undefined(v);  // int(Undefined) raises UndefinedError, not TypeError
    if (v.is_int()) return Value::integer(v.as_int());
    if (v.kind == Kind::Float) {
        if (std::isnan(v.f) || std::isinf(v.f) || std::fabs(v.f) >= 9.2e18) return dflt;
        return Value::integer(int64_t(v.f));
    }
    if (v.is_string()) {
        int64_t out;
        if (base >= 2 && base <= 36 && parse_py_int(v.s, int(base), out)) return Value::integer(out);
        double f;
        if (parse_py_float(v.s, f) && !std::isnan(f) && !std::isinf(f) && std::fabs(f) < 9.2e18) return Value::integer(int64_t(f));
    }
    return dflt;
}

Value f_float(Interpreter&, const Value& v, CallArgs& a) {
    a.check("float", {"default"});
    const Value* d = a.get(0, "default");
    if (v.is_undefined()) raise_undefined(v);
    if (v.is_number()) return Value::number(v.as_double());
    double f;
    if (v.is_string() && parse_py_float(v.s, f)) return Value::number(f);
    return d ? *d : Value::number(0.0);
}

Value f_round(Interpreter&, const Value& v, CallArgs& a) {
    a.check("round", {"precision", "method"});
    const Value* p = a.get(0, "precision");
    int64_t prec = p && p->is_int() ? p->as_int() : 0;
    const Value* m = a.get(1, "method");
    std::string method = m && m->is_string() ? m->s : "common";
    if (!v.is_number()) type_error("round() requires a number");
    if (method == "common" && v.is_int() && prec >= 0) return Value::integer(v.as_int());
    double scale = std::pow(10.0, double(std::clamp<int64_t>(prec, -300, 300)));
    double x = v.as_double();
    if (method == "common") return Value::number(std::nearbyint(x * scale) / scale);  // round-half-even like Python
    if (method == "ceil") return Value::number(std::ceil(x * scale) / scale);
    if (method == "floor") return Value::number(std::floor(x * scale) / scale);
    type_error("method must be common, ceil or floor");
}

Value f_indent(Interpreter& in, const Value& v, CallArgs& a) {
    a.check("indent", {"width", "first", "blank"});
    const Value* w = a.get(0, "width");
    std::string ind = "    ";
    if (w && w->is_string()) ind = w->s;
    else if (w && w->is_int()) ind = std::string(size_t(std::clamp<int64_t>(w->as_int(), 0, 10000)), ' ');
    bool first = arg_bool(a, 1, "first", false), blank = arg_bool(a, 2, "blank", false);
    if (v.is_undefined()) raise_undefined(v);
    if (!v.is_string()) type_error("unsupported operand type(s) for +=: '" + type_label(v) + "' and 'str'");
    std::string s = v.s + "\n";  // jinja2 appends a newline so splitlines keeps a trailing empty line
    std::vector<std::string> lines = py_splitlines(s);
    std::string out;
    for (size_t k = 0; k < lines.size(); ++k) {
        if (k > 0) {
            out += "\n";
            if (blank || !lines[k].empty()) out += ind;
        }
        out += lines[k];
        in.check_size(out.size());
    }
    if (first) out = ind + out;
    return Value::string(out);
}

Value f_center(Interpreter& in, const Value& v, CallArgs& a) {
    CallArgs m;
    m.positional.push_back(a.get(0, "width") ? *a.get(0, "width") : Value::integer(80));
    return in.call(get_method(Value::string(to_str(v)), "center"), m);
}

Value f_wordcount(Interpreter&, const Value& v, CallArgs&) {
    std::string s = to_str(v);
    int64_t n = 0;
    bool in_word = false;
    for (size_t p = 0; p < s.size();) {
        char32_t c = utf8_next(s, p);
        // Python's \w: letters, digits and underscore of any script; symbols and emoji are not.
        bool w = cp_is_alnum(c) || c == '_' ||
                 (c >= 0x80 && !py_isspace(c) && !(c >= 0x2000 && c <= 0x2bff) && !(c >= 0x3000 && c <= 0x303f) &&
                  !(c >= 0x1f000 && c <= 0x1faff) && !(c >= 0xfe00 && c <= 0xfe0f) && c != 0xd7 && c != 0xf7 &&
                  !(c >= 0xa1 && c <= 0xbf && c != 0xaa && c != 0xb5 && c != 0xba && !(c >= 0xb2 && c <= 0xb3) && c != 0xb9 && !(c >= 0xbc && c <= 0xbe)));
        if (w && !in_word) ++n;
        in_word = w;
    }
    return Value::integer(n);
}

Value f_format(Interpreter& in, const Value& v, CallArgs& a) {
    if (!a.keyword.empty() && !a.positional.empty()) type_error("can't handle positional and keyword arguments at the same time");
    if (!a.keyword.empty()) {
        Dict d;
        for (auto& [k, x] : a.keyword) d.set(Value::string(k), x);
        return Value::string(py_percent_format(in, to_str(v), Value::make_dict(std::move(d))));
    }
    return Value::string(py_percent_format(in, to_str(v), Value::make_tuple(a.positional)));
}

Value f_batch(Interpreter&, const Value& v, CallArgs& a) {
    const Value* n = a.get(0, "linecount");
    if (!n || !n->is_int() || n->as_int() <= 0) type_error("batch requires a positive line count");
    const Value* fill = a.get(1, "fill_with");
    std::vector<Value> out, cur;
    for (const auto& x : iterate(v)) {
        cur.push_back(x);
        if (int64_t(cur.size()) == n->as_int()) {
            out.push_back(Value::make_list(std::move(cur)));
            cur.clear();
        }
    }
    if (!cur.empty()) {
        if (fill && !fill->is_none())
            while (int64_t(cur.size()) < n->as_int()) cur.push_back(*fill);
        out.push_back(Value::make_list(std::move(cur)));
    }
    return Value::make_generator(std::move(out));
}

Value f_attr(Interpreter& in, const Value& v, CallArgs& a) {
    const Value* name = a.get(0, "name");
    if (!name || !name->is_string()) type_error("attr requires a name");
    if (v.kind == Kind::Object) return v.obj->get_attr(name->s);
    Value m = get_method(v, name->s);
    (void)in;
    return m.kind == Kind::Function ? m : Value::undefined("'" + type_label(v) + "' has no attribute '" + name->s + "'");
}

Value f_map(Interpreter& in, const Value& v, CallArgs& a) {
    std::vector<Value> out;
    const Value* attr = nullptr;
    const Value* dflt = nullptr;
    for (const auto& [k, x] : a.keyword) {
        if (k == "attribute") attr = &x;
        else if (k == "default") dflt = &x;
    }
    if (attr) {
        for (const auto& x : iterate(v)) {
            Value r = get_path(in, x, *attr);
            out.push_back(r.is_undefined() && dflt ? *dflt : r);
        }
        return Value::make_generator(std::move(out));
    }
    if (a.positional.empty() || !a.positional[0].is_string()) type_error("map requires a filter name or attribute=");
    std::string name = a.positional[0].s;
    if (!filter_exists(name)) type_error("No filter named '" + name + "'.");
    CallArgs rest;
    rest.positional.assign(a.positional.begin() + 1, a.positional.end());
    rest.keyword = a.keyword;
    for (const auto& x : iterate(v)) {
        CallArgs copy = rest;
        out.push_back(apply_filter(in, name, x, copy));
    }
    return Value::make_generator(std::move(out));
}

// select/reject/selectattr/rejectattr share one loop: optional attribute, optional test name.
Value select_impl(Interpreter& in, const Value& v, CallArgs& a, bool want, bool by_attr) {
    size_t next = 0;
    Value attr;
    if (by_attr) {
        if (a.positional.empty()) type_error("Missing parameter for attribute name");
        attr = a.positional[next++];
    }
    std::string test;
    if (next < a.positional.size()) {
        if (!a.positional[next].is_string()) type_error("test name must be a string");
        test = a.positional[next++].s;
        if (!test_exists(test)) type_error("No test named '" + test + "'.");
    }
    CallArgs rest;
    rest.positional.assign(a.positional.begin() + long(next), a.positional.end());
    rest.keyword = a.keyword;
    std::vector<Value> out;
    for (const auto& x : iterate(v)) {
        Value subject = by_attr ? get_path(in, x, attr) : x;
        bool r;
        if (test.empty()) {
            r = truthy(subject);
        } else {
            CallArgs copy = rest;
            r = apply_test(in, test, subject, copy);
        }
        if (r == want) out.push_back(x);
    }
    return Value::make_generator(std::move(out));
}
Value f_select(Interpreter& in, const Value& v, CallArgs& a) { return select_impl(in, v, a, true, false); }
Value f_reject(Interpreter& in, const Value& v, CallArgs& a) { return select_impl(in, v, a, false, false); }
Value f_selectattr(Interpreter& in, const Value& v, CallArgs& a) { return select_impl(in, v, a, true, true); }
Value f_rejectattr(Interpreter& in, const Value& v, CallArgs& a) { return select_impl(in, v, a, false, true); }

const std::unordered_map<std::string, FilterFn>& table() {
    static const std::unordered_map<std::string, FilterFn> t = {
        {"default", f_default}, {"d", f_default}, {"length", f_length}, {"count", f_length}, {"string", f_string},
        {"upper", f_upper}, {"lower", f_lower}, {"capitalize", f_capitalize}, {"title", f_title}, {"trim", f_trim},
        {"replace", f_replace}, {"safe", f_safe}, {"tojson", f_tojson}, {"join", f_join}, {"list", f_list},
        {"first", f_first}, {"last", f_last}, {"reverse", f_reverse}, {"items", f_items}, {"dictsort", f_dictsort},
        {"sort", f_sort}, {"unique", f_unique}, {"min", f_min}, {"max", f_max}, {"sum", f_sum}, {"abs", f_abs},
        {"int", f_int}, {"float", f_float}, {"round", f_round}, {"indent", f_indent}, {"center", f_center},
        {"wordcount", f_wordcount}, {"format", f_format}, {"batch", f_batch}, {"attr", f_attr}, {"map", f_map},
        {"select", f_select}, {"reject", f_reject}, {"selectattr", f_selectattr}, {"rejectattr", f_rejectattr},
        {"escape", f_escape}, {"e", f_escape}, {"forceescape", f_escape}, {"pprint", f_pprint},
    };
    return t;
}

}  // namespace

bool filter_exists(const std::string& name) { return table().count(name) > 0; }

Value apply_filter(Interpreter& in, const std::string& name, const Value& v, CallArgs& args) {
    auto it = table().find(name);
    if (it == table().end()) fail(ErrorKind::Unsupported, "no filter named '" + name + "'");
    return it->second(in, v, args);
}

}  // namespace llcuda::tmpl
