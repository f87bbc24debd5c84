// JSON Schema -> GBNF. Each schema node becomes one rule whose sentences are the JSON texts it
// accepts, followed by optional whitespace (the `ws` rule). Properties are generated in the
// order the schema lists them (as llama.cpp and the OpenAI API do); a property not in `required`
// may be left out. Keywords outside the supported subset are refused by name rather than ignored,
// so a schema never silently promises more than the grammar enforces (docs/grammar.md).
#include <cctype>
#include <cmath>
#include <optional>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "grammar/gbnf_text.h"
#include "grammar/grammar.h"
#include "grammar/schema_pattern.h"
#include "llcuda/error.h"
#include "llcuda/grammar.h"

namespace llcuda {

namespace {

using Json = nlohmann::ordered_json;
using grammar::gbnf_literal;

// The building blocks every converted schema may use. Whitespace and number lengths are bounded so
// that a model cannot loop forever on spaces or digits.
const std::map<std::string, std::string>& primitives() {
    static const std::map<std::string, std::string> p = {
        {"ws", R"(| " " | "\n" [ \t]{0,20})"},
        {"char", R"([^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4}))"},
        {"string", R"("\"" char* "\"" ws)"},
        {"integral-part", R"("0" | [1-9] [0-9]{0,15})"},
        {"number", R"("-"? integral-part ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})? ws)"},
        {"integer", R"("-"? integral-part ws)"},
        {"boolean", R"(("true" | "false") ws)"},
        {"null", R"("null" ws)"},
        {"value", R"(object | array | string | number | boolean | null)"},
        {"object", R"("{" ws (string ":" ws value ("," ws string ":" ws value)*)? "}" ws)"},
        {"array", R"("[" ws (value ("," ws value)*)? "]" ws)"},
    };
    return p;
}

// Which primitives each one needs.
const std::map<std::string, std::vector<std::string>>& primitive_deps() {
    static const std::map<std::string, std::vector<std::string>> d = {
        {"string", {"char", "ws"}},
        {"number", {"integral-part", "ws"}},
        {"integer", {"integral-part", "ws"}},
        {"boolean", {"ws"}},
        {"null", {"ws"}},
        {"value", {"object", "array", "string", "number", "boolean", "null"}},
        {"object", {"ws", "string", "value"}},
        {"array", {"ws", "value"}},
    };
    return d;
}

const std::set<std::string>& annotations() {
    static const std::set<std::string> a = {"title", "description", "$schema", "$id", "$comment", "default",
                                            "examples", "deprecated", "readOnly", "writeOnly"};
    return a;
}

const std::set<std::string>& supported() {
    static const std::set<std::string> s = {
        "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "enum", "const",
        "pattern", "minLength", "maxLength", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
        "anyOf", "oneOf", "$ref", "$defs", "definitions"};
    return s;
}

// Decimal strings (no sign, no leading zeros) of the integers in [lo, hi], 0 <= lo <= hi, as GBNF.
std::string same_length(const std::string& lo, const std::string& hi) {
    if (lo.empty()) return "";
    auto digits = [](size_t n) { return n == 0 ? std::string() : n == 1 ? std::string(" [0-9]") : fmt::format(" [0-9]{{{}}}", n); };
    const std::string lo_rest = lo.substr(1), hi_rest = hi.substr(1);
    if (lo[0] == hi[0]) return fmt::format("\"{}\"{}", lo[0], lo_rest.empty() ? "" : " " + same_length(lo_rest, hi_rest));
    if (lo_rest.find_first_not_of('0') == std::string::npos && hi_rest.find_first_not_of('9') == std::string::npos) {
        return fmt::format("[{}-{}]{}", lo[0], hi[0], digits(lo_rest.size()));
    }
    std::vector<std::string> alts;
    alts.push_back(fmt::format("\"{}\"{}", lo[0], lo_rest.empty() ? "" : " " + same_length(lo_rest, std::string(lo_rest.size(), '9'))));
    if (hi[0] - lo[0] > 1) alts.push_back(fmt::format("[{}-{}]{}", char(lo[0] + 1), char(hi[0] - 1), digits(lo_rest.size())));
    alts.push_back(fmt::format("\"{}\"{}", hi[0], hi_rest.empty() ? "" : " " + same_length(std::string(hi_rest.size(), '0'), hi_rest)));
    std::string out = "(";
    for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
    return out + ")";
}

constexpr int kMaxDigits = 16;  // integers stay below 10^16, as integral-part does

std::string digits_range(uint64_t lo, uint64_t hi) {
    std::vector<std::string> alts;
    uint64_t start = lo;
    for (uint64_t pow = 1, len = 1; start <= hi && len <= kMaxDigits; pow *= 10, ++len) {
        const uint64_t top = pow * 10 - 1;  // largest number of `len` digits
        if (start > top) continue;
        const uint64_t end = std::min(hi, top);
        alts.push_back(same_length(std::to_string(start), std::to_string(end)));
        start = end + 1;
    }
    std::string out = "(";
    for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
    return out + ")";
}

// Integers >= lo (lo >= 0), up to kMaxDigits digits.
std::string at_least(uint64_t lo) {
    const size_t len = std::to_string(lo).size();
    std::string out = "(" + same_length(std::to_string(lo), std::string(len, '9'));
    if (int(len) < kMaxDigits) out += fmt::format(" | [1-9] [0-9]{{{},{}}}", len, kMaxDigits - 1);
    return out + ")";
}

class Converter {
public:
    explicit Converter(const Json& root) : root_(root) {}

    std::string run() {
        const std::string top = visit(root_, "root", "");
        if (top != "root") rules_["root"] = top;
        std::string out = "root ::= " + rules_.at("root") + "\n";
        for (const auto& [name, body] : rules_) {
            if (name != "root") out += name + " ::= " + body + "\n";
        }
        return out;
    }

private:
    [[noreturn]] void unsupported(const std::string& path, const std::string& what) const {
        throw Error(ErrorKind::Unsupported, fmt::format("JSON schema{}: {}", path.empty() ? "" : " at " + path, what));
    }
    [[noreturn]] void invalid(const std::string& path, const std::string& what) const {
        throw Error(ErrorKind::InvalidArgument, fmt::format("JSON schema{}: {}", path.empty() ? "" : " at " + path, what));
    }

    std::string use(const std::string& primitive) {
        if (rules_.count(primitive)) return primitive;
        rules_[primitive] = primitives().at(primitive);
        if (auto it = primitive_deps().find(primitive); it != primitive_deps().end()) {
            for (const auto& d : it->second) use(d);
        }
        return primitive;
    }

    std::string fresh(const std::string& hint) {
        std::string base;
        for (char c : hint) base += std::isalnum(uint8_t(c)) ? char(std::tolower(uint8_t(c))) : '-';
        if (base.empty() || !std::isalpha(uint8_t(base[0]))) base = "s-" + base;
        std::string name = base;
        for (int k = 1; rules_.count(name) || primitives().count(name); ++k) name = fmt::format("{}-{}", base, k);
        rules_[name] = "";  // reserved
        return name;
    }

    std::string rule(const std::string& hint, const std::string& body) {
        const std::string name = hint == "root" && !rules_.count("root") ? "root" : fresh(hint);
        rules_[name] = body.empty() ? "\"\"" : body;  // an empty body would run into the next line
        return name;
    }

    static std::string literal_value(const Json& v) { return gbnf_literal(v.dump()) + " ws"; }

    std::string alternatives(const std::vector<std::string>& alts) {
        std::string out;
        for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
        return out;
    }

    // A rule (or primitive) name for `s`.
    std::string visit(const Json& s, const std::string& hint, const std::string& path) {
        if (s.is_boolean()) {
            if (!s.get<bool>()) unsupported(path, "the schema false matches nothing");
            return use("value");
        }
        if (!s.is_object()) invalid(path, "a schema must be an object or a boolean");
        for (const auto& [key, value] : s.items()) {
            if (!supported().count(key) && !annotations().count(key)) unsupported(path, fmt::format("unsupported keyword '{}'", key));
        }
        for (const char* defs : {"$defs", "definitions"}) {
            if (s.contains(defs) && !s[defs].is_object()) invalid(path, fmt::format("'{}' must be an object", defs));
        }
        if (s.contains("$ref")) return ref(s, path);
        if (s.contains("const")) {
            only(s, path, {"const", "type"});
            use("ws");
            return rule(hint, literal_value(s["const"]));
        }
        if (s.contains("enum")) {
            only(s, path, {"enum", "type"});
            if (!s["enum"].is_array() || s["enum"].empty()) invalid(path, "'enum' must be a non-empty array");
            std::vector<std::string> alts;
            for (const auto& v : s["enum"]) alts.push_back(literal_value(v));
            use("ws");
            return rule(hint, alternatives(alts));
        }
        for (const char* any : {"anyOf", "oneOf"}) {
            if (!s.contains(any)) continue;
            only(s, path, {any});
            if (!s[any].is_array() || s[any].empty()) invalid(path, fmt::format("'{}' must be a non-empty array", any));
            std::vector<std::string> alts;
            for (size_t i = 0; i < s[any].size(); ++i) {
                alts.push_back(visit(s[any][i], fmt::format("{}-{}", hint, i), fmt::format("{}/{}/{}", path, any, i)));
            }
            return rule(hint, alternatives(alts));
        }
        if (!s.contains("type")) {
            if (s.contains("properties") || s.contains("additionalProperties")) return object(s, hint, path);
            if (s.contains("items")) return array(s, hint, path);
            only(s, path, {});
            return use("value");
        }
        const Json& type = s["type"];
        if (type.is_array()) {
            if (type.empty()) invalid(path, "'type' must not be an empty array");
            std::vector<std::string> alts;
            for (const auto& t : type) {
                Json one = s;
                one["type"] = t;
                alts.push_back(visit(one, hint + "-" + (t.is_string() ? t.get<std::string>() : "t"), path));
            }
            return rule(hint, alternatives(alts));
        }
        if (!type.is_string()) invalid(path, "'type' must be a string or an array of strings");
        const std::string t = type.get<std::string>();
        if (t == "object") return object(s, hint, path);
        if (t == "array") return array(s, hint, path);
        if (t == "string") return string(s, hint, path);
        if (t == "integer") return integer(s, hint, path);
        if (t == "number") return number(s, hint, path);
        if (t == "boolean") { only(s, path, {"type"}); return use("boolean"); }
        if (t == "null") { only(s, path, {"type"}); return use("null"); }
        invalid(path, fmt::format("unknown type '{}'", t));
    }

    // Refuses the keywords of `s` that are neither annotations nor in `allowed` (nor definitions).
    void only(const Json& s, const std::string& path, std::initializer_list<const char*> allowed) {
        for (const auto& [key, value] : s.items()) {
            if (annotations().count(key) || key == "$defs" || key == "definitions") continue;
            bool ok = false;
            for (const char* a : allowed) ok = ok || key == a;
            if (!ok) unsupported(path, fmt::format("keyword '{}' is not supported here", key));
        }
    }

    std::string ref(const Json& s, const std::string& path) {
        only(s, path, {"$ref"});
        if (!s["$ref"].is_string()) invalid(path, "'$ref' must be a string");
        const std::string target = s["$ref"].get<std::string>();
        if (auto it = refs_.find(target); it != refs_.end()) return it->second;
        const Json* def = nullptr;
        std::string name_hint;
        if (target == "#") {
            def = &root_;
            name_hint = "root-ref";
        } else {
            for (const char* prefix : {"#/$defs/", "#/definitions/"}) {
                const std::string p = prefix;
                if (target.rfind(p, 0) != 0) continue;
                const std::string key = target.substr(p.size());
                const std::string defs = p.substr(2, p.size() - 3);
                if (root_.contains(defs) && root_[defs].contains(key)) def = &root_[defs][key];
                name_hint = key;
            }
        }
        if (!def) unsupported(path, fmt::format("$ref '{}' (only #, #/$defs/NAME and #/definitions/NAME are supported)", target));
        // Reserve the name first: the definition may refer to itself.
        const std::string name = fresh(name_hint);
        refs_[target] = name;
        const std::string inner = visit(*def, name + "-def", target);
        rules_[name] = inner;
        return name;
    }

    std::string object(const Json& s, const std::string& hint, const std::string& path) {
        only(s, path, {"type", "properties", "required", "additionalProperties"});
        std::vector<std::pair<std::string, std::string>> props;  // key, rule
        if (s.contains("properties")) {
            if (!s["properties"].is_object()) invalid(path, "'properties' must be an object");
            for (const auto& [key, sub] : s["properties"].items()) {
                props.emplace_back(key, visit(sub, hint + "-" + key, path + "/properties/" + key));
            }
        }
        std::set<std::string> required;
        if (s.contains("required")) {
            if (!s["required"].is_array()) invalid(path, "'required' must be an array");
            for (const auto& r : s["required"]) {
                if (!r.is_string()) invalid(path, "'required' must hold strings");
                bool known = false;
                for (const auto& [key, rule] : props) known = known || key == r.get<std::string>();
                if (!known) unsupported(path, fmt::format("required property '{}' is not in 'properties'", r.get<std::string>()));
                required.insert(r.get<std::string>());
            }
        }
        // Extra keys: allowed when additionalProperties is true or a schema, and by default only
        // when the object lists no properties (a listed set of properties is taken as closed).
        std::string extra;
        const bool open_default = !s.contains("properties");
        if (s.contains("additionalProperties") ? !s["additionalProperties"].is_boolean() || s["additionalProperties"].get<bool>()
                                               : open_default) {
            const std::string v = s.contains("additionalProperties") && s["additionalProperties"].is_object()
                                      ? visit(s["additionalProperties"], hint + "-extra", path + "/additionalProperties")
                                      : use("value");
            extra = rule(hint + "-kv", fmt::format("{} \":\" ws {}", use("string"), v));
        }
        use("ws");
        // first[i]: properties i.. with none written yet; after[i]: the same after a written one.
        std::string first = extra.empty() ? "" : fmt::format("({} (\",\" ws {})*)?", extra, extra);
        std::string after = extra.empty() ? "" : fmt::format("(\",\" ws {})*", extra);
        for (size_t i = props.size(); i-- > 0;) {
            const auto& [key, value] = props[i];
            const std::string kv = fmt::format("{} ws \":\" ws {}", gbnf_literal(Json(key).dump()), value);
            const std::string after_name = rule(fmt::format("{}-after-{}", hint, i), after);
            const std::string first_name = rule(fmt::format("{}-from-{}", hint, i), first);
            if (required.count(key)) {
                first = fmt::format("{} {}", kv, after_name);
                after = fmt::format("\",\" ws {} {}", kv, after_name);
            } else {
                first = fmt::format("{} {} | {}", kv, after_name, first_name);
                after = fmt::format("\",\" ws {} {} | {}", kv, after_name, after_name);
            }
        }
        const std::string body = rule(hint + "-props", first);
        return rule(hint, fmt::format("\"{{\" ws {} \"}}\" ws", body));
    }

    std::string array(const Json& s, const std::string& hint, const std::string& path) {
        only(s, path, {"type", "items", "minItems", "maxItems"});
        const std::string item = s.contains("items") ? visit(s["items"], hint + "-item", path + "/items") : use("value");
        const uint64_t min = count(s, "minItems", path, 0);
        const bool bounded = s.contains("maxItems");
        const uint64_t max = count(s, "maxItems", path, 0);
        if (bounded && max < min) invalid(path, "maxItems is below minItems");
        if (bounded && max > grammar::kMaxRepetition) unsupported(path, fmt::format("maxItems above {}", grammar::kMaxRepetition));
        if (min > grammar::kMaxRepetition) unsupported(path, fmt::format("minItems above {}", grammar::kMaxRepetition));
        use("ws");
        std::string body;
        if (bounded && max == 0) {
            body = "\"[\" ws \"]\" ws";
        } else {
            const std::string more = bounded ? fmt::format("{{{},{}}}", min ? min - 1 : 0, max - 1)
                                             : min > 1 ? fmt::format("{{{},}}", min - 1) : "*";
            const std::string list = fmt::format("{} (\",\" ws {}){}", item, item, more);
            body = fmt::format("\"[\" ws {} \"]\" ws", min == 0 ? "(" + list + ")?" : list);
        }
        return rule(hint, body);
    }

    uint64_t count(const Json& s, const char* key, const std::string& path, uint64_t fallback) {
        if (!s.contains(key)) return fallback;
        const Json& v = s[key];
        if (!v.is_number_integer() && !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>())) {
            invalid(path, fmt::format("'{}' must be a non-negative integer", key));
        }
        const double d = v.get<double>();
        if (d < 0) invalid(path, fmt::format("'{}' must be a non-negative integer", key));
        return uint64_t(d);
    }

    std::string string(const Json& s, const std::string& hint, const std::string& path) {
        only(s, path, {"type", "enum", "const", "pattern", "minLength", "maxLength", "format"});
        use("ws");
        if (s.contains("format")) {
            only(s, path, {"type", "format"});
            if (!s["format"].is_string()) invalid(path, "'format' must be a string");
            const std::string f = s["format"].get<std::string>();
            // Month-aware days (February up to 29: leap years are not checked); time with seconds,
            // optional fraction and a required offset, as RFC 3339 writes it.
            const std::string date =
                R"([0-9]{4} "-" ((("0" [13578] | "1" [02]) "-" ("0" [1-9] | [12] [0-9] | "3" [01])) | (("0" [469] | "11") "-" ("0" [1-9] | [12] [0-9] | "30")) | ("02" "-" ("0" [1-9] | "1" [0-9] | "2" [0-9]))))";
            const std::string time =
                R"(([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,6})? ("Z" | [+-] ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9]))";
            std::string content;
            if (f == "date") content = date;
            else if (f == "time") content = time;
            else if (f == "date-time") content = "(" + date + ") \"T\" (" + time + ")";
            else if (f == "uuid") content = R"([0-9a-f]{8} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{12})";
            else unsupported(path, fmt::format("format '{}' (supported: date, time, date-time, uuid)", f));
            return rule(hint, "\"\\\"\" (" + content + ") \"\\\"\" ws");
        }
        if (s.contains("pattern")) {
            only(s, path, {"type", "pattern"});
            if (!s["pattern"].is_string()) invalid(path, "'pattern' must be a string");
            return rule(hint, "\"\\\"\" (" + grammar::pattern_to_gbnf(s["pattern"].get<std::string>()) + ") \"\\\"\" ws");
        }
        if (!s.contains("minLength") && !s.contains("maxLength")) return use("string");
        const uint64_t min = count(s, "minLength", path, 0);
        const bool bounded = s.contains("maxLength");
        const uint64_t max = count(s, "maxLength", path, 0);
        if (bounded && max < min) invalid(path, "maxLength is below minLength");
        if ((bounded && max > grammar::kMaxRepetition) || min > grammar::kMaxRepetition) {
            unsupported(path, fmt::format("string lengths above {}", grammar::kMaxRepetition));
        }
        use("char");
        const std::string reps = bounded ? fmt::format("{{{},{}}}", min, max) : fmt::format("{{{},}}", min);
        return rule(hint, fmt::format("\"\\\"\" char{} \"\\\"\" ws", reps));
    }

    // A bound of an integer schema, rounded inward; absent: nullopt.
    std::optional<int64_t> bound(const Json& s, const char* key, bool lower, const std::string& path) {
        if (!s.contains(key)) return std::nullopt;
        if (!s[key].is_number()) invalid(path, fmt::format("'{}' must be a number", key));
        const double d = s[key].get<double>();
        if (!(std::fabs(d) < 1e15)) unsupported(path, fmt::format("'{}' beyond +-10^15", key));
        const bool exclusive = std::string(key).rfind("exclusive", 0) == 0;
        double v = lower ? std::ceil(d) : std::floor(d);
        if (exclusive && v == d) v += lower ? 1 : -1;
        return int64_t(v);
    }

    std::string integer(const Json& s, const std::string& hint, const std::string& path) {
        only(s, path, {"type", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"});
        std::optional<int64_t> lo = bound(s, "minimum", true, path), hi = bound(s, "maximum", false, path);
        if (auto x = bound(s, "exclusiveMinimum", true, path)) lo = lo ? std::max(*lo, *x) : *x;
        if (auto x = bound(s, "exclusiveMaximum", false, path)) hi = hi ? std::min(*hi, *x) : *x;
        if (!lo && !hi) return use("integer");
        if (lo && hi && *lo > *hi) invalid(path, "no integer lies between the minimum and the maximum");
        std::vector<std::string> alts;
        // negative numbers: magnitudes in [max(1, -hi), -lo]
        if (!lo || *lo < 0) {
            const uint64_t mag_lo = hi && *hi < 0 ? uint64_t(-*hi) : 1;
            alts.push_back("\"-\" " + (lo ? digits_range(mag_lo, uint64_t(-*lo)) : at_least(mag_lo)));
        }
        if (!hi || *hi >= 0) {
            const uint64_t from = lo && *lo > 0 ? uint64_t(*lo) : 0;
            alts.push_back(hi ? digits_range(from, uint64_t(*hi)) : at_least(from));
        }
        use("ws");
        return rule(hint, "(" + alternatives(alts) + ") ws");
    }

    std::string number(const Json& s, const std::string& hint, const std::string& path) {
        only(s, path, {"type", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"});
        for (const char* k : {"maximum", "exclusiveMinimum", "exclusiveMaximum"}) {
            if (s.contains(k)) unsupported(path, fmt::format("keyword '{}' for type number (only \"minimum\": 0 is)", k));
        }
        if (s.contains("minimum")) {
            if (!s["minimum"].is_number() || s["minimum"].get<double>() != 0) {
                unsupported(path, "keyword 'minimum' for type number other than 0");
            }
            use("integral-part");
            use("ws");
            return rule(hint, R"(integral-part ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})? ws)");
        }
        return use("number");
    }

    const Json& root_;
    std::map<std::string, std::string> rules_;
    std::map<std::string, std::string> refs_;  // $ref target -> rule
};

}  // namespace

std::string json_schema_to_grammar(std::string_view schema_json) {
    Json schema;
    try {
        schema = Json::parse(schema_json);
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("JSON schema: not valid JSON ({})", e.what()));
    }
    std::string gbnf = Converter(schema).run();
    try {
        grammar::parse_gbnf(gbnf);
    } catch (const Error& e) {  // every rule the converter writes must compile: a failure here is a bug
        throw Error(ErrorKind::Internal, fmt::format("JSON schema: the grammar written for it does not compile ({}):\n{}",
                                                     e.what(), gbnf));
    }
    return gbnf;
}

std::string json_object_grammar() {
    return json_schema_to_grammar(R"({"type": "object"})");
}

void check_grammar(std::string_view gbnf) { grammar::parse_gbnf(gbnf); }

}  // namespace llcuda
