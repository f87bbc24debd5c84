#include "grammar/schema_pattern.h"

#include <algorithm>

#include <fmt/format.h>

#include "grammar/gbnf_text.h"
#include "grammar/grammar.h"
#include "llcuda/error.h"

namespace llcuda::grammar {

namespace {

using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;

Ranges merged(Ranges r) {
    std::sort(r.begin(), r.end());
    Ranges out;
    for (auto [lo, hi] : r) {
        if (!out.empty() && lo <= out.back().second + 1) out.back().second = std::max(out.back().second, hi);
        else out.emplace_back(lo, hi);
    }
    return out;
}

Ranges complement(const Ranges& r) {
    Ranges out;
    uint32_t next = 0;
    for (auto [lo, hi] : merged(r)) {
        if (lo > next) out.emplace_back(next, lo - 1);
        next = hi + 1;
    }
    if (next <= 0x10FFFF) out.emplace_back(next, 0x10FFFF);
    return out;
}

bool has(const Ranges& r, uint32_t cp) {
    for (auto [lo, hi] : r) if (cp >= lo && cp <= hi) return true;
    return false;
}

// A character as JSON string content spells it.
std::string json_char(uint32_t cp) {
    switch (cp) {
        case '"': return "\"\\x5C\\x22\"";
        case '\\': return "\"\\x5C\\x5C\"";
        case '\n': return "\"\\x5Cn\"";
        case '\t': return "\"\\x5Ct\"";
        case '\r': return "\"\\x5Cr\"";
        default: return "\"" + gbnf_char(cp) + "\"";
    }
}

// A set of characters as JSON string content: the printable ones as one class, the few that
// JSON escapes as alternatives.
std::string json_class(const Ranges& set) {
    Ranges plain;
    for (auto [lo, hi] : merged(set)) {
        lo = std::max<uint32_t>(lo, 0x20);
        if (lo > hi) continue;
        // cut out '"' (0x22) and '\' (0x5C)
        for (uint32_t cut : {0x22u, 0x5Cu}) {
            if (cut >= lo && cut <= hi) {
                if (cut > lo) plain.emplace_back(lo, cut - 1);
                lo = cut + 1;
            }
        }
        if (lo <= hi) plain.emplace_back(lo, hi);
    }
    std::vector<std::string> alts;
    if (!plain.empty()) alts.push_back(gbnf_class(plain));
    for (uint32_t c : {0x22u, 0x5Cu, uint32_t('\n'), uint32_t('\t'), uint32_t('\r')}) {
        if (has(set, c)) alts.push_back(json_char(c));
    }
    if (alts.empty()) throw Error(ErrorKind::Unsupported, "JSON schema pattern: a character class that matches no printable character");
    if (alts.size() == 1) return alts[0];
    std::string out = "(";
    for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
    return out + ")";
}

class PatternParser {
public:
    explicit PatternParser(std::string_view pattern) : text_(pattern), p_(utf8_code_points(pattern)) {}

    std::string run() {
        if (p_.size() < 2 || p_.front() != '^' || p_.back() != '$' || (p_.size() >= 3 && p_[p_.size() - 2] == '\\')) {
            unsupported("must match the whole string: start it with ^ and end it with $");
        }
        end_ = p_.size() - 1;
        i_ = 1;
        std::string e = alternation();
        if (i_ != end_) unsupported(fmt::format("unexpected '{}'", char(p_[i_])));
        return e.empty() ? "\"\"" : e;
    }

private:
    [[noreturn]] void unsupported(const std::string& what) const {
        throw Error(ErrorKind::Unsupported, fmt::format("JSON schema pattern \"{}\": {}", text_, what));
    }
    bool more() const { return i_ < end_; }
    uint32_t peek() const { return more() ? p_[i_] : 0; }

    std::string alternation() {
        std::vector<std::string> alts{sequence()};
        while (more() && peek() == '|') {
            ++i_;
            alts.push_back(sequence());
        }
        if (alts.size() == 1) return alts[0];
        std::string out = "(";
        for (size_t k = 0; k < alts.size(); ++k) out += (k ? " | " : "") + (alts[k].empty() ? std::string("\"\"") : alts[k]);
        return out + ")";
    }

    std::string sequence() {
        std::string out;
        while (more() && peek() != '|' && peek() != ')') {
            std::string a = atom();
            a += quantifier();
            out += (out.empty() ? "" : " ") + a;
        }
        return out;
    }

    std::string quantifier() {
        if (!more()) return "";
        std::string q;
        const uint32_t c = peek();
        if (c == '*' || c == '+' || c == '?') {
            q = std::string(1, char(c));
            ++i_;
        } else if (c == '{') {
            const size_t start = i_;
            ++i_;
            std::string body;
            while (more() && peek() != '}') {
                if (!((peek() >= '0' && peek() <= '9') || peek() == ',')) unsupported("malformed {m,n}");
                body += char(peek());
                ++i_;
            }
            if (!more()) unsupported("unclosed {");
            ++i_;
            if (body.empty() || body[0] == ',') { i_ = start; return ""; }
            q = "{" + body + "}";
        } else {
            return "";
        }
        if (more() && peek() == '?') ++i_;  // lazy: the same strings
        if (more() && (peek() == '*' || peek() == '+' || peek() == '?' || peek() == '{')) unsupported("stacked quantifiers");
        return q;
    }

    std::string atom() {
        const uint32_t c = peek();
        ++i_;
        switch (c) {
            case '(': {
                if (more() && peek() == '?') {
                    if (i_ + 1 < end_ && p_[i_ + 1] == ':') i_ += 2;
                    else unsupported("lookaround and other (? groups are not supported");
                }
                std::string inner = alternation();
                if (!more() || peek() != ')') unsupported("unclosed (");
                ++i_;
                return "(" + (inner.empty() ? std::string("\"\"") : inner) + ")";
            }
            case '[': return json_class(bracket());
            case '.': return json_class(complement({{'\n', '\n'}}));
            case '\\': return escape_atom();
            case '*': case '+': case '?': case '{': unsupported(fmt::format("'{}' has nothing to repeat", char(c)));
            case '^': case '$': unsupported("anchors are only supported at the start and the end");
            case ')': unsupported("unbalanced )");
            default: return json_char(c);
        }
    }

    // After a backslash: a class escape as a set, or one character (returned in `cp`).
    bool escape(Ranges& set, uint32_t& cp) {
        if (!more()) unsupported("a trailing backslash");
        const uint32_t e = peek();
        ++i_;
        const Ranges digit{{'0', '9'}}, word{{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}},
            space{{'\t', '\r'}, {' ', ' '}};
        switch (e) {
            case 'd': set = digit; return true;
            case 'D': set = complement(digit); return true;
            case 'w': set = word; return true;
            case 'W': set = complement(word); return true;
            case 's': set = space; return true;
            case 'S': set = complement(space); return true;
            case 'n': cp = '\n'; return false;
            case 't': cp = '\t'; return false;
            case 'r': cp = '\r'; return false;
            case 'u': {
                uint32_t v = 0;
                for (int k = 0; k < 4; ++k) {
                    const uint32_t h = peek();
                    const int d = h >= '0' && h <= '9' ? int(h - '0') : h >= 'a' && h <= 'f' ? int(h - 'a' + 10) : h >= 'A' && h <= 'F' ? int(h - 'A' + 10) : -1;
                    if (!more() || d < 0) unsupported("\\u needs four hexadecimal digits");
                    v = v * 16 + uint32_t(d);
                    ++i_;
                }
                cp = v;
                return false;
            }
            default:
                if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
                    unsupported(fmt::format("escape \\{} is not supported", char(e)));
                }
                cp = e;  // escaped punctuation stands for itself
                return false;
        }
    }

    std::string escape_atom() {
        Ranges set;
        uint32_t cp = 0;
        if (escape(set, cp)) return json_class(set);
        return json_char(cp);
    }

    Ranges bracket() {
        bool negate = false;
        if (more() && peek() == '^') { negate = true; ++i_; }
        Ranges set;
        bool first = true;
        while (more() && (peek() != ']' || first)) {
            first = false;
            uint32_t lo = peek();
            ++i_;
            if (lo == '\\') {
                Ranges sub;
                if (escape(sub, lo)) { set.insert(set.end(), sub.begin(), sub.end()); continue; }
            }
            uint32_t hi = lo;
            if (more() && peek() == '-' && i_ + 1 < end_ && p_[i_ + 1] != ']') {
                ++i_;
                hi = peek();
                ++i_;
                if (hi == '\\') {
                    Ranges sub;
                    if (escape(sub, hi)) unsupported("a class escape cannot end a range");
                }
                if (hi < lo) unsupported("a range runs backwards");
            }
            set.emplace_back(lo, hi);
        }
        if (!more()) unsupported("unclosed [");
        ++i_;
        return negate ? complement(set) : merged(set);
    }

    std::string_view text_;
    std::vector<uint32_t> p_;
    size_t i_ = 0, end_ = 0;
};

}  // namespace

std::string pattern_to_gbnf(std::string_view pattern) { return PatternParser(pattern).run(); }

}  // namespace llcuda::grammar
