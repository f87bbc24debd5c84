// Template lexer; see lexer.h. Mirrors the behaviour (not the code) of jinja2's regex lexer.
#include "template/lexer.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "llcuda/error.h"
#include "template/utf8.h"

namespace llcuda::tmpl {

std::string position_text(int line, int col) { return fmt::format("line {}, column {}", line, col); }

namespace {

// jinja2 normalises \r\n and \r to \n, then drops one trailing newline.
std::string normalize(std::string_view src, bool keep_trailing_newline) {
    std::string out;
    out.reserve(src.size());
    for (size_t i = 0; i < src.size(); ++i) {
        if (src[i] == '\r') {
            out += '\n';
            if (i + 1 < src.size() && src[i + 1] == '\n') ++i;
        } else {
            out += src[i];
        }
    }
    if (!keep_trailing_newline && !out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
public:
    Lexer(std::string src, const LexOptions& opt) : s_(std::move(src)), opt_(opt) {
        for (size_t i = 0; i < s_.size(); ++i)
            if (s_[i] == '\n') line_starts_.push_back(i + 1);
    }

    std::vector<Token> run() {
        size_t pos = 0;
        bool line_starting = true;
        while (pos < s_.size()) {
            size_t tag = find_tag(pos);
            if (tag == std::string::npos) {
                emit_data(pos, s_.substr(pos));
                break;
            }
            char kind = s_[tag + 1];  // '%', '{' or '#'
            char sign = tag + 2 < s_.size() && (s_[tag + 2] == '-' || s_[tag + 2] == '+') ? s_[tag + 2] : 0;
            std::string text = s_.substr(pos, tag - pos);
            size_t raw_end = 0;
            bool is_raw = kind == '%' && match_raw(tag, "raw", raw_end, false);
            text = strip_before(text, sign, kind != '{', line_starting);
            emit_data(pos, text);
            size_t after = tag + 2 + (sign ? 1 : 0);
            if (is_raw) {
                pos = lex_raw(tag, raw_end, line_starting);
            } else if (kind == '#') {
                pos = lex_comment(tag, after, line_starting);
            } else {
                pos = lex_tag(tag, after, kind == '%', line_starting);
            }
        }
        Token eof{Tok::Eof, ""};
        set_pos(eof, s_.size());
        toks_.push_back(eof);
        return std::move(toks_);
    }

private:
    std::string s_;
    LexOptions opt_;
    std::vector<size_t> line_starts_{0};
    std::vector<Token> toks_;

    void set_pos(Token& t, size_t pos) const {
        auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), pos);
        size_t line = static_cast<size_t>(it - line_starts_.begin());
        t.line = static_cast<int>(line);
        t.col = static_cast<int>(pos - line_starts_[line - 1] + 1);
    }

    [[noreturn]] void error(size_t pos, const std::string& msg) const {
        Token t{Tok::Eof, ""};
        set_pos(t, std::min(pos, s_.size()));
        throw Error(ErrorKind::FormatError, "chat template " + position_text(t.line, t.col) + ": " + msg);
    }

    void emit_data(size_t pos, std::string text) {
        if (text.empty()) return;
        Token t{Tok::Data, std::move(text)};
        set_pos(t, pos);
        toks_.push_back(std::move(t));
    }

    size_t find_tag(size_t pos) const {
        while (true) {
            size_t p = s_.find('{', pos);
            if (p == std::string::npos || p + 1 >= s_.size()) return std::string::npos;
            char c = s_[p + 1];
            if (c == '%' || c == '{' || c == '#') return p;
            pos = p + 1;
        }
    }

    size_t skip_py_space(size_t p) const {
        while (p < s_.size()) {
            size_t q = p;
            if (!py_isspace(utf8_next(s_, q))) break;
            p = q;
        }
        return p;
    }

    // Whitespace control on the text before a tag: '-' strips all trailing whitespace;
    // lstrip_blocks strips the indentation of a block/comment tag that begins its line.
    std::string strip_before(const std::string& text, char sign, bool block_or_comment, bool line_starting) const {
        if (sign == '-') return py_strip(text, nullptr, false, true);
        if (sign == '+' || !opt_.lstrip_blocks || !block_or_comment) return text;
        size_t nl = text.rfind('\n');
        size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
        if (l_pos == 0 && !line_starting) return text;
        if (l_pos == text.size()) return text;  // nothing to strip (\s+ needs one character)
        for (size_t p = l_pos; p < text.size();)
            if (!py_isspace(utf8_next(text, p))) return text;
        return text.substr(0, l_pos);
    }

    // Matches `{%[-+]? \s* <word> \s* (-%}\s* | %}[\n] | +%})` at `tag`; sets `end` past it.
    bool match_raw(size_t tag, std::string_view word, size_t& end, bool allow_plus_end) const {
        size_t p = tag + 2;
        if (p < s_.size() && (s_[p] == '-' || s_[p] == '+')) ++p;
        p = skip_py_space(p);
        if (s_.compare(p, word.size(), word) != 0) return false;
        p += word.size();
        if (p < s_.size() && is_name_char(s_[p])) return false;
        p = skip_py_space(p);
        if (allow_plus_end && s_.compare(p, 3, "+%}") == 0) {
            end = p + 3;
            return true;
        }
        if (s_.compare(p, 3, "-%}") == 0) {
            end = skip_py_space(p + 3);
            return true;
        }
        if (s_.compare(p, 2, "%}") == 0) {
            end = p + 2;
            if (allow_plus_end && opt_.trim_blocks && end < s_.size() && s_[end] == '\n') ++end;
            return true;
        }
        return false;
    }

    size_t lex_raw(size_t tag, size_t body, bool& line_starting) {
        for (size_t p = body;;) {
            size_t q = s_.find("{%", p);
            if (q == std::string::npos) error(tag, "Missing end of raw directive");
            size_t end = 0;
            if (match_raw(q, "endraw", end, true)) {
                char sign = q + 2 < s_.size() && (s_[q + 2] == '-' || s_[q + 2] == '+') ? s_[q + 2] : 0;
                emit_data(body, strip_before(s_.substr(body, q - body), sign, true, false));
                line_starting = end > 0 && s_[end - 1] == '\n';
                return end;
            }
            p = q + 2;
        }
    }

    size_t lex_comment(size_t tag, size_t content, bool& line_starting) {
        size_t q = s_.find("#}", content);
        if (q == std::string::npos) error(tag, "Missing end of comment tag");
        size_t end = q + 2;
        char sign = q > content && (s_[q - 1] == '-' || s_[q - 1] == '+') ? s_[q - 1] : 0;
        if (sign == '-') end = skip_py_space(end);
        else if (!sign && opt_.trim_blocks && end < s_.size() && s_[end] == '\n') ++end;
        line_starting = s_[end - 1] == '\n';
        return end;
    }

    size_t lex_tag(size_t tag, size_t p, bool block, bool& line_starting) {
        Token begin{block ? Tok::BlockBegin : Tok::VarBegin, block ? "{%" : "{{"};
        set_pos(begin, tag);
        toks_.push_back(begin);
        std::vector<char> balance;
        while (true) {
            if (p >= s_.size()) error(tag, block ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'");
            if (balance.empty()) {
                size_t end = match_end(p, block);
                if (end) {
                    Token t{block ? Tok::BlockEnd : Tok::VarEnd, block ? "%}" : "}}"};
                    set_pos(t, p);
                    toks_.push_back(t);
                    line_starting = s_[end - 1] == '\n';
                    return end;
                }
            }
            size_t q = p;
            if (py_isspace(utf8_next(s_, q))) {
                p = skip_py_space(p);
                continue;
            }
            p = lex_expr_token(p, balance);
        }
    }

    // End of a tag at p: returns the position after it (0 when no end tag here).
    size_t match_end(size_t p, bool block) const {
        if (block) {
            if (s_.compare(p, 3, "+%}") == 0) return p + 3;
            if (s_.compare(p, 3, "-%}") == 0) return skip_py_space(p + 3);
            if (s_.compare(p, 2, "%}") == 0) {
                size_t e = p + 2;
                if (opt_.trim_blocks && e < s_.size() && s_[e] == '\n') ++e;
                return e;
            }
            return 0;
        }
        if (s_.compare(p, 3, "-}}") == 0) return skip_py_space(p + 3);
        if (s_.compare(p, 2, "}}") == 0) return p + 2;
        return 0;
    }

    size_t lex_expr_token(size_t p, std::vector<char>& balance) {
        Token t{Tok::Op, ""};
        set_pos(t, p);
        char c = s_[p];
        if (is_digit(c)) {
            size_t end = match_float(p);
            if (end && !(p > 0 && s_[p - 1] == '.')) {
                std::string digits;
                for (size_t i = p; i < end; ++i)
                    if (s_[i] != '_') digits += s_[i];
                t.type = Tok::Float;
                t.fval = std::strtod(digits.c_str(), nullptr);
                t.text = s_.substr(p, end - p);
                toks_.push_back(t);
                return end;
            }
            return lex_int(p, t);
        }
        if (is_name_start(c)) {
            size_t e = p;
            while (e < s_.size() && is_name_char(s_[e])) ++e;
            t.type = Tok::Name;
            t.text = s_.substr(p, e - p);
            toks_.push_back(t);
            return e;
        }
        if (c == '\'' || c == '"') return lex_string(p, t);
        static const char* const ops[] = {"//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[",
                                          "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"};
        for (const char* op : ops) {
            size_t n = std::char_traits<char>::length(op);
            if (s_.compare(p, n, op) != 0) continue;
            if (n == 1 && (c == '(' || c == '[' || c == '{')) balance.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
            if (n == 1 && (c == ')' || c == ']' || c == '}')) {
                if (balance.empty()) error(p, fmt::format("unexpected '{}'", c));
                if (balance.back() != c) error(p, fmt::format("unexpected '{}', expected '{}'", c, balance.back()));
                balance.pop_back();
            }
            t.text = op;
            toks_.push_back(t);
            return p + n;
        }
        error(p, fmt::format("unexpected char {} ", py_string_repr_char(p)));
    }

    std::string py_string_repr_char(size_t p) const {
        size_t q = p;
        utf8_next(s_, q);
        return "'" + s_.substr(p, q - p) + "'";
    }

    // (\d+_)*\d+ ( (\.(\d+_)*\d+)? e[+-]?(\d+_)*\d+ | \.(\d+_)*\d+ ); returns end or 0.
    size_t match_digits(size_t p) const {
        if (p >= s_.size() || !is_digit(s_[p])) return 0;
        while (true) {
            while (p < s_.size() && is_digit(s_[p])) ++p;
            if (p + 1 < s_.size() && s_[p] == '_' && is_digit(s_[p + 1])) {
                ++p;
                continue;
            }
            return p;
        }
    }
    size_t match_exponent(size_t p) const {
        if (p >= s_.size() || (s_[p] != 'e' && s_[p] != 'E')) return 0;
        ++p;
        if (p < s_.size() && (s_[p] == '+' || s_[p] == '-')) ++p;
        return match_digits(p);
    }
    size_t match_float(size_t p) const {
        size_t e = match_digits(p);
        if (!e) return 0;
        size_t frac = 0;
        if (e < s_.size() && s_[e] == '.') frac = match_digits(e + 1);
        if (size_t x = match_exponent(frac ? frac : e)) return x;
        return frac;
    }

    size_t lex_int(size_t p, Token& t) {
        int base = 10;
        size_t q = p;
        if (s_[p] == '0' && p + 1 < s_.size()) {
            char b = static_cast<char>(s_[p + 1] | 0x20);
            base = b == 'b' ? 2 : b == 'o' ? 8 : b == 'x' ? 16 : 10;
            if (base != 10) q = p + 2;
        }
        auto digit_value = [&](char c) -> int {
            int v = is_digit(c) ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : 99;
            return v < base ? v : -1;
        };
        uint64_t value = 0;
        bool any = false, overflow = false;
        size_t e = q;
        while (e < s_.size()) {
            if (s_[e] == '_' && e + 1 < s_.size() && digit_value(s_[e + 1]) >= 0 && (any || base != 10)) {
                ++e;
                continue;
            }
            int d = digit_value(s_[e]);
            if (d < 0) break;
            if (base == 10 && s_[p] == '0' && d != 0) break;  // "0(_?0)*": leading zeros only as zero
            if (value > (UINT64_MAX - d) / base) overflow = true;
            value = value * base + d;
            any = true;
            ++e;
        }
        if (!any) {  // "0x" without digits: the integer is just 0
            e = p + 1;
            value = 0;
        }
        if (overflow || value > uint64_t(INT64_MAX)) error(p, "integer literal too large");
        t.type = Tok::Int;
        t.ival = static_cast<int64_t>(value);
        t.text = s_.substr(p, e - p);
        toks_.push_back(t);
        return e;
    }

    size_t lex_string(size_t p, Token& t) {
        char quote = s_[p];
        size_t e = p + 1;
        while (e < s_.size() && s_[e] != quote) e += s_[e] == '\\' ? 2 : 1;
        if (e >= s_.size()) error(p, fmt::format("unexpected char '{}'", quote));
        t.type = Tok::String;
        t.text = unescape(s_.substr(p + 1, e - p - 1), p);
        toks_.push_back(t);
        return e + 1;
    }

    // Python's "unicode-escape" decoding, which jinja2 applies to string literals.
    std::string unescape(const std::string& in, size_t at) const {
        std::string out;
        for (size_t i = 0; i < in.size(); ++i) {
            if (in[i] != '\\' || i + 1 >= in.size()) {
                out += in[i];
                continue;
            }
            char c = in[++i];
            auto hex = [&](int n) -> char32_t {
                char32_t v = 0;
                for (int k = 1; k <= n; ++k) {
                    if (i + k >= in.size()) error(at, "truncated escape in string literal");
                    char h = static_cast<char>(in[i + k] | 0x20);
                    if (is_digit(in[i + k])) v = v * 16 + (in[i + k] - '0');
                    else if (h >= 'a' && h <= 'f') v = v * 16 + (h - 'a' + 10);
                    else error(at, "truncated escape in string literal");
                }
                i += n;
                return v;
            };
            switch (c) {
                case '\n': break;
                case '\\': out += '\\'; break;
                case '\'': out += '\''; break;
                case '"': out += '"'; break;
                case 'a': out += '\a'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'v': out += '\v'; break;
                case 'x': utf8_append(out, hex(2)); break;
                case 'u': utf8_append(out, hex(4)); break;
                case 'U': {
                    char32_t v = hex(8);
                    if (v > 0x10ffff) error(at, "illegal Unicode character in string literal");
                    utf8_append(out, v);
                    break;
                }
                case 'N': error(at, "\\N{...} escapes are not supported");
                default:
                    if (c >= '0' && c <= '7') {
                        char32_t v = c - '0';
                        for (int k = 0; k < 2 && i + 1 < in.size() && in[i + 1] >= '0' && in[i + 1] <= '7'; ++k)
                            v = v * 8 + (in[++i] - '0');
                        utf8_append(out, v);
                    } else {
                        out += '\\';
                        out += c;
                    }
            }
        }
        return out;
    }
};

}  // namespace

std::vector<Token> lex(std::string_view source, const LexOptions& options) {
    return Lexer(normalize(source, options.keep_trailing_newline), options).run();
}

}  // namespace llcuda::tmpl
