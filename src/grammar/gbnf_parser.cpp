// GBNF parser: text -> Grammar. A recursive-descent parser over the bytes of the source, written
// after llama.cpp's grammar notation (grammars/README.md there): rules `name ::= alternatives`
// that end at a newline outside parentheses, `|`, `( )`, `* + ? {m} {m,} {m,n}`, "literals",
// [classes] with ranges and ^ negation, `.` for any character, escapes \x \u \U \t \n \r \\ \" \[ \]
// and `#` comments. Groups and repetitions become anonymous rules; x* is right-recursive
// (r ::= x r | ) so the matcher's stack stays flat (see automaton.h).
#include <algorithm>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "grammar/grammar.h"
#include "llcuda/error.h"

namespace llcuda::grammar {

bool CharClass::contains(uint32_t cp) const { return intersects(cp, cp); }

bool CharClass::intersects(uint32_t lo, uint32_t hi) const {
    // First range that ends at or after lo; it intersects when it starts at or before hi.
    auto it = std::lower_bound(ranges.begin(), ranges.end(), lo,
                               [](const std::pair<uint32_t, uint32_t>& r, uint32_t v) { return r.second < v; });
    return it != ranges.end() && it->first <= hi;
}

namespace {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;
using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;
using Sequence = std::vector<Elem>;

// Sorted, merged, without surrogates.
Ranges normalize(Ranges r) {
    std::sort(r.begin(), r.end());
    Ranges out;
    for (auto [lo, hi] : r) {
        if (!out.empty() && lo <= out.back().second + 1) out.back().second = std::max(out.back().second, hi);
        else out.emplace_back(lo, hi);
    }
    Ranges clean;
    for (auto [lo, hi] : out) {
        if (hi < 0xD800 || lo > 0xDFFF) { clean.emplace_back(lo, hi); continue; }
        if (lo < 0xD800) clean.emplace_back(lo, 0xD7FF);
        if (hi > 0xDFFF) clean.emplace_back(0xE000, hi);
    }
    return clean;
}

Ranges complement(const Ranges& r) {
    Ranges out;
    uint32_t next = 0;
    for (auto [lo, hi] : r) {
        if (lo > next) out.emplace_back(next, lo - 1);
        next = hi + 1;
    }
    if (next <= kMaxCodePoint) out.emplace_back(next, kMaxCodePoint);
    return normalize(out);
}

void append_utf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    } else {
        out += char(0xF0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3F));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
}

bool is_word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

class Parser {
public:
    explicit Parser(std::string_view src) : src_(src) {}

    Grammar run(std::string_view root_name) {
        skip_space(true);
        while (pos_ < src_.size()) {
            parse_rule();
            skip_space(true);
        }
        for (uint32_t r = 0; r < bodies_.size(); ++r) {
            if (!defined_[r]) fail_at(first_use_[r], fmt::format("undefined rule '{}'", g_.rule_names[r]));
        }
        const auto root = names_.find(std::string(root_name));
        if (root == names_.end() || !defined_[root->second]) {
            throw Error(ErrorKind::InvalidArgument, fmt::format("grammar: there is no rule named '{}' (the start rule)", root_name));
        }
        g_.root = root->second;
        for (uint32_t r = 0; r < bodies_.size(); ++r) {
            for (const Sequence& seq : bodies_[r]) {
                g_.rule_alts[r].push_back(uint32_t(g_.elems.size()));
                g_.elems.insert(g_.elems.end(), seq.begin(), seq.end());
                g_.elems.push_back({ElemKind::End, 0});
            }
        }
        return std::move(g_);
    }

private:
    [[noreturn]] void fail_at(size_t offset, const std::string& what) const {
        size_t line = 1, col = 1;
        for (size_t i = 0; i < offset && i < src_.size(); ++i) {
            if (src_[i] == '\n') { ++line; col = 1; }
            else if ((uint8_t(src_[i]) & 0xC0) != 0x80) ++col;  // count characters, not bytes
        }
        throw Error(ErrorKind::InvalidArgument, fmt::format("grammar: line {}, column {}: {}", line, col, what));
    }
    [[noreturn]] void fail(const std::string& what) const { fail_at(pos_, what); }
    size_t line_of(size_t offset) const { return size_t(std::count(src_.begin(), src_.begin() + long(offset), '\n')) + 1; }

    char peek(size_t ahead = 0) const { return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0'; }
    bool at_end() const { return pos_ >= src_.size(); }

    // Spaces, tabs and comments; newlines too when `newlines` (inside parentheses, after ::= or |).
    void skip_space(bool newlines) {
        while (!at_end()) {
            const char c = peek();
            if (c == ' ' || c == '\t' || ((c == '\n' || c == '\r') && newlines)) {
                ++pos_;
            } else if (c == '#') {
                while (!at_end() && peek() != '\n') ++pos_;
            } else {
                break;
            }
        }
    }

    std::string parse_name() {
        const size_t start = pos_;
        while (is_word_char(peek())) ++pos_;
        if (pos_ == start) fail("expected a rule name");
        return std::string(src_.substr(start, pos_ - start));
    }

    uint32_t rule_id(const std::string& name, size_t use_offset) {
        auto [it, added] = names_.emplace(name, uint32_t(bodies_.size()));
        if (added) new_rule(name, use_offset);
        return it->second;
    }

    uint32_t new_rule(const std::string& name, size_t offset) {
        bodies_.emplace_back();
        defined_.push_back(false);
        first_use_.push_back(offset);
        def_at_.push_back(0);
        g_.rule_names.push_back(name);
        g_.rule_alts.emplace_back();
        return uint32_t(bodies_.size() - 1);
    }

    uint32_t anonymous_rule(const std::string& parent, std::vector<Sequence> alts) {
        const uint32_t id = new_rule(fmt::format("{}-{}", parent, ++n_anonymous_), pos_);
        bodies_[id] = std::move(alts);
        defined_[id] = true;
        return id;
    }

    void count(size_t n) {
        n_elems_ += n;
        if (n_elems_ > kMaxElements) {
            fail(fmt::format("the grammar expands to more than {} elements (repetition counts too large)", kMaxElements));
        }
    }

    void parse_rule() {
        const size_t start = pos_;
        const std::string name = parse_name();
        skip_space(false);
        if (src_.substr(pos_, 3) != "::=") fail(fmt::format("expected '::=' after rule name '{}'", name));
        pos_ += 3;
        skip_space(true);
        const uint32_t id = rule_id(name, start);
        if (defined_[id]) {
            fail_at(start, fmt::format("rule '{}' is defined twice (first on line {})", name, line_of(def_at_[id])));
        }
        defined_[id] = true;  // before the body, so a self-reference is not "undefined"
        def_at_[id] = start;
        bodies_[id] = parse_alternates(name, false);
        skip_space(false);
        if (!at_end() && peek() != '\n' && peek() != '\r') fail(fmt::format("unexpected '{}'", peek()));
    }

    std::vector<Sequence> parse_alternates(const std::string& rule, bool nested) {
        std::vector<Sequence> alts;
        alts.push_back(parse_sequence(rule, nested));
        while (peek() == '|') {
            ++pos_;
            skip_space(true);
            alts.push_back(parse_sequence(rule, nested));
        }
        return alts;
    }

    Sequence parse_sequence(const std::string& rule, bool nested) {
        Sequence seq;
        size_t last_start = 0;  // where the last item's elements begin (what a repetition applies to)
        bool have_item = false;
        for (;;) {
            const char c = peek();
            if (c == '"') {
                last_start = seq.size();
                ++pos_;
                std::string bytes;
                while (peek() != '"') {
                    if (at_end() || peek() == '\n') fail("unterminated string literal");
                    append_utf8(parse_char(), bytes);
                }
                ++pos_;
                for (char b : bytes) seq.push_back({ElemKind::Bytes, byte_set_of(uint8_t(b))});
                count(bytes.size());
                have_item = true;
            } else if (c == '[') {
                last_start = seq.size();
                seq.push_back(parse_class());
                count(1);
                have_item = true;
            } else if (c == '.') {
                last_start = seq.size();
                ++pos_;
                seq.push_back(class_elem(normalize({{0, kMaxCodePoint}})));
                count(1);
                have_item = true;
            } else if (is_word_char(c)) {
                last_start = seq.size();
                const size_t at = pos_;
                seq.push_back({ElemKind::Rule, rule_id(parse_name(), at)});
                count(1);
                have_item = true;
            } else if (c == '(') {
                last_start = seq.size();
                const size_t open = pos_;
                ++pos_;
                if (++depth_ > kMaxNesting) fail(fmt::format("parentheses nested deeper than {}", kMaxNesting));
                skip_space(true);
                auto alts = parse_alternates(rule, true);
                if (peek() != ')') fail_at(open, "unclosed '('");
                ++pos_;
                --depth_;
                seq.push_back({ElemKind::Rule, anonymous_rule(rule, std::move(alts))});
                count(1);
                have_item = true;
            } else if (c == '*' || c == '+' || c == '?' || c == '{') {
                if (!have_item || last_start >= seq.size()) fail(fmt::format("'{}' has nothing before it to repeat", c));
                uint32_t min = 0, max = 0;
                bool unbounded = false;
                if (c == '*') { unbounded = true; ++pos_; }
                else if (c == '+') { min = 1; unbounded = true; ++pos_; }
                else if (c == '?') { max = 1; ++pos_; }
                else parse_braces(min, max, unbounded);
                repeat(rule, seq, last_start, min, max, unbounded);
            } else {
                break;
            }
            skip_space(nested);
        }
        return seq;
    }

    // {m}, {m,}, {m,n}
    void parse_braces(uint32_t& min, uint32_t& max, bool& unbounded) {
        ++pos_;
        skip_space(true);
        min = parse_count();
        skip_space(true);
        if (peek() == ',') {
            ++pos_;
            skip_space(true);
            if (peek() == '}') unbounded = true;
            else max = parse_count();
            skip_space(true);
        } else {
            max = min;
        }
        if (peek() != '}') fail("expected '}' to close the repetition count");
        ++pos_;
        if (!unbounded && max < min) fail(fmt::format("repetition {{{},{}}} has its maximum below its minimum", min, max));
    }

    uint32_t parse_count() {
        const size_t start = pos_;
        uint64_t v = 0;
        while (peek() >= '0' && peek() <= '9') {
            v = v * 10 + uint64_t(peek() - '0');
            if (v > kMaxRepetition) fail_at(start, fmt::format("repetition count larger than {}", kMaxRepetition));
            ++pos_;
        }
        if (pos_ == start) fail("expected a number in the repetition count");
        return uint32_t(v);
    }

    // Replaces seq[from..] (the last item) by `min` copies followed by the optional part.
    void repeat(const std::string& rule, Sequence& seq, size_t from, uint32_t min, uint32_t max, bool unbounded) {
        Sequence item(seq.begin() + long(from), seq.end());
        seq.resize(from);
        if (item.size() > 1) item = {{ElemKind::Rule, anonymous_rule(rule, {item})}};
        count(size_t(min) + (unbounded ? 3 : size_t(max - min) * 3));
        for (uint32_t i = 0; i < min; ++i) seq.push_back(item[0]);
        if (unbounded) {
            // r ::= item r |
            const uint32_t r = anonymous_rule(rule, {});
            bodies_[r] = {{item[0], {ElemKind::Rule, r}}, {}};
            seq.push_back({ElemKind::Rule, r});
        } else if (max > min) {
            // r1 ::= item | ; rk ::= item r(k-1) |
            uint32_t prev = anonymous_rule(rule, {{item[0]}, {}});
            for (uint32_t k = 2; k <= max - min; ++k) prev = anonymous_rule(rule, {{item[0], {ElemKind::Rule, prev}}, {}});
            seq.push_back({ElemKind::Rule, prev});
        }
    }

    // One character of a literal or class: an escape or one UTF-8 encoded code point of the source.
    uint32_t parse_char() {
        if (peek() == '\\') {
            const size_t at = pos_;
            ++pos_;
            const char e = peek();
            ++pos_;
            switch (e) {
                case 'x': return parse_hex(2, at);
                case 'u': return parse_hex(4, at);
                case 'U': return parse_hex(8, at);
                case 't': return '\t';
                case 'n': return '\n';
                case 'r': return '\r';
                case '\\': case '"': case '[': case ']': case '-': case '^': return uint32_t(uint8_t(e));
                default: fail_at(at, fmt::format("unknown escape '\\{}'", e == '\0' ? std::string("") : std::string(1, e)));
            }
        }
        const uint8_t b0 = uint8_t(peek());
        if (b0 < 0x80) { ++pos_; return b0; }
        const int n = b0 >= 0xF0 && b0 <= 0xF4 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC2 && b0 < 0xE0 ? 2 : 0;
        if (n == 0 || pos_ + size_t(n) > src_.size()) fail("invalid UTF-8 in the grammar text");
        uint32_t cp = b0 & (0x7F >> n);
        for (int i = 1; i < n; ++i) {
            const uint8_t b = uint8_t(src_[pos_ + size_t(i)]);
            if ((b & 0xC0) != 0x80) fail("invalid UTF-8 in the grammar text");
            cp = (cp << 6) | (b & 0x3F);
        }
        static constexpr uint32_t kMinOf[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < kMinOf[n] || cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF)) fail("invalid UTF-8 in the grammar text");
        pos_ += size_t(n);
        return cp;
    }

    uint32_t parse_hex(int digits, size_t at) {
        uint32_t v = 0;
        for (int i = 0; i < digits; ++i) {
            const char c = peek();
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) fail_at(at, fmt::format("escape needs {} hexadecimal digits", digits));
            v = v * 16 + uint32_t(d);
            ++pos_;
        }
        if (v > kMaxCodePoint || (v >= 0xD800 && v <= 0xDFFF)) fail_at(at, fmt::format("escape U+{:X} is not a Unicode scalar value", v));
        return v;
    }

    Elem parse_class() {
        const size_t open = pos_;
        ++pos_;
        bool negate = false;
        if (peek() == '^') { negate = true; ++pos_; }
        Ranges r;
        while (peek() != ']') {
            if (at_end() || peek() == '\n') fail_at(open, "unclosed '['");
            const uint32_t lo = parse_char();
            uint32_t hi = lo;
            if (peek() == '-' && peek(1) != ']') {
                ++pos_;
                if (at_end() || peek() == '\n') fail_at(open, "unclosed '['");
                hi = parse_char();
                if (hi < lo) fail(fmt::format("range U+{:X}-U+{:X} runs backwards", lo, hi));
            }
            r.emplace_back(lo, hi);
        }
        ++pos_;
        r = normalize(r);
        return class_elem(negate ? complement(r) : r);
    }

    // ASCII-only classes are byte sets (one step, no UTF-8 state); others match code points.
    Elem class_elem(const Ranges& r) {
        if (r.empty() || r.back().second < 0x80) {
            std::bitset<256> set;
            for (auto [lo, hi] : r) for (uint32_t c = lo; c <= hi; ++c) set.set(c);
            return {ElemKind::Bytes, byte_set_index(set)};
        }
        g_.classes.push_back(CharClass{r});
        return {ElemKind::Chars, uint32_t(g_.classes.size() - 1)};
    }

    uint32_t byte_set_of(uint8_t b) {
        std::bitset<256> set;
        set.set(b);
        return byte_set_index(set);
    }

    uint32_t byte_set_index(const std::bitset<256>& set) {
        auto [it, added] = byte_sets_.emplace(set.to_string(), uint32_t(g_.byte_sets.size()));
        if (added) g_.byte_sets.push_back(set);
        return it->second;
    }

    std::string_view src_;
    size_t pos_ = 0;
    int depth_ = 0;
    size_t n_elems_ = 0;
    int n_anonymous_ = 0;
    Grammar g_;
    std::unordered_map<std::string, uint32_t> names_;
    std::unordered_map<std::string, uint32_t> byte_sets_;
    std::vector<std::vector<Sequence>> bodies_;  // [rule] -> alternatives
    std::vector<bool> defined_;
    std::vector<size_t> first_use_, def_at_;     // source offsets
};

// A rule that can reach itself through rule references at the start of an alternative, past only
// rules that can match nothing, would make the matcher expand forever; such grammars are refused
// (as llama.cpp does). Rewrite `a ::= a "x" | "y"` as `a ::= "y" "x"*`.
void check_left_recursion(const Grammar& g) {
    const size_t n = g.rule_alts.size();
    std::vector<bool> nullable(n, false);
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t r = 0; r < n; ++r) {
            if (nullable[r]) continue;
            for (uint32_t at : g.rule_alts[r]) {
                bool all = true;
                for (uint32_t i = at; g.elems[i].kind != ElemKind::End; ++i) {
                    if (g.elems[i].kind != ElemKind::Rule || !nullable[g.elems[i].arg]) { all = false; break; }
                }
                if (all) { nullable[r] = changed = true; break; }
            }
        }
    }
    std::vector<std::vector<uint32_t>> left(n);  // rules each rule can start with
    for (size_t r = 0; r < n; ++r) {
        for (uint32_t at : g.rule_alts[r]) {
            for (uint32_t i = at; g.elems[i].kind == ElemKind::Rule; ++i) {
                left[r].push_back(g.elems[i].arg);
                if (!nullable[g.elems[i].arg]) break;
            }
        }
    }
    std::vector<uint8_t> color(n, 0);  // 0 new, 1 on the path, 2 done
    std::vector<std::pair<uint32_t, size_t>> stack;
    for (uint32_t s = 0; s < n; ++s) {
        if (color[s]) continue;
        stack.push_back({s, 0});
        color[s] = 1;
        while (!stack.empty()) {
            auto& [r, next] = stack.back();
            if (next == left[r].size()) { color[r] = 2; stack.pop_back(); continue; }
            const uint32_t t = left[r][next++];
            if (color[t] == 1) {
                throw Error(ErrorKind::InvalidArgument,
                            fmt::format("grammar: rule '{}' is left-recursive (it can reach itself without matching "
                                        "any character); rewrite it with repetition",
                                        g.rule_names[t]));
            }
            if (color[t] == 0) { color[t] = 1; stack.push_back({t, 0}); }
        }
    }
}

}  // namespace

Grammar parse_gbnf(std::string_view text, std::string_view root) {
    Grammar g = Parser(text).run(root);
    check_left_recursion(g);
    return g;
}

}  // namespace llcuda::grammar
