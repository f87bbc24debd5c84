// UTF-8 helpers: see utf8.h for why strings are measured in code points.
#include "template/utf8.h"

namespace llcuda::tmpl {

char32_t utf8_next(std::string_view s, size_t& pos) {
    unsigned char c = static_cast<unsigned char>(s[pos]);
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len <= 1 || pos + len > s.size()) {
        ++pos;
        return c;
    }
    char32_t cp = c & (0x7f >> len);
    for (int i = 1; i < len; ++i) {
        unsigned char cc = static_cast<unsigned char>(s[pos + i]);
        if ((cc & 0xc0) != 0x80) {  // truncated sequence: treat the lead byte alone
            ++pos;
            return c;
        }
        cp = (cp << 6) | (cc & 0x3f);
    }
    pos += len;
    return cp;
}

void utf8_append(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | ((cp >> 18) & 0x07));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

bool is_ascii(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) >= 0x80) return false;
    return true;
}

size_t utf8_length(std::string_view s) {
    if (is_ascii(s)) return s.size();
    size_t n = 0;
    for (size_t pos = 0; pos < s.size(); ++n) utf8_next(s, pos);
    return n;
}

std::vector<size_t> utf8_offsets(std::string_view s) {
    std::vector<size_t> offs;
    offs.reserve(s.size() + 1);
    for (size_t pos = 0; pos < s.size();) {
        offs.push_back(pos);
        utf8_next(s, pos);
    }
    offs.push_back(s.size());
    return offs;
}

bool py_isspace(char32_t c) {
    return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
           c == 0x202f || c == 0x205f || c == 0x3000;
}

std::string py_strip(std::string_view s, const std::string* chars, bool left, bool right) {
    std::vector<char32_t> set;
    if (chars)
        for (size_t p = 0; p < chars->size();) set.push_back(utf8_next(*chars, p));
    auto strip_it = [&](char32_t c) {
        if (!chars) return py_isspace(c);
        for (char32_t x : set)
            if (x == c) return true;
        return false;
    };
    size_t begin = 0, end = s.size();
    if (left) {
        while (begin < end) {
            size_t p = begin;
            if (!strip_it(utf8_next(s, p))) break;
            begin = p;
        }
    }
    if (right) {
        while (end > begin) {
            // Step back to the start of the last code point (or a lone byte).
            size_t start = end - 1;
            while (start > begin && (static_cast<unsigned char>(s[start]) & 0xc0) == 0x80 && end - start < 4) --start;
            size_t p = start;
            char32_t c = utf8_next(s, p);
            if (p != end) {  // not a clean code point: treat the last byte alone
                start = end - 1;
                c = static_cast<unsigned char>(s[start]);
            }
            if (!strip_it(c)) break;
            end = start;
        }
    }
    return std::string(s.substr(begin, end - begin));
}

char32_t cp_upper(char32_t c) {
    if (c >= 'a' && c <= 'z') return c - 32;
    if (c < 0x80) return c;
    if ((c >= 0xe0 && c <= 0xfe && c != 0xf7)) return c - 0x20;
    if (c == 0xff) return 0x178;
    if (c == 0xb5) return 0x39c;
    if (c >= 0x100 && c <= 0x137 && (c & 1)) return c - 1;
    if (c >= 0x14a && c <= 0x177 && (c & 1)) return c - 1;
    if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) && !(c & 1)) return c - 1;
    if (c >= 0x3b1 && c <= 0x3c9 && c != 0x3c2) return c - 0x20;
    if (c == 0x3c2) return 0x3a3;
    if (c >= 0x430 && c <= 0x44f) return c - 0x20;
    if (c >= 0x450 && c <= 0x45f) return c - 0x50;
    return c;
}

char32_t cp_lower(char32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c < 0x80) return c;
    if ((c >= 0xc0 && c <= 0xde && c != 0xd7)) return c + 0x20;
    if (c == 0x178) return 0xff;
    if (c >= 0x100 && c <= 0x137 && !(c & 1)) return c + 1;
    if (c >= 0x14a && c <= 0x177 && !(c & 1)) return c + 1;
    if (((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e)) && (c & 1)) return c + 1;
    if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2) return c + 0x20;
    if (c >= 0x410 && c <= 0x42f) return c + 0x20;
    if (c >= 0x400 && c <= 0x40f) return c + 0x50;
    return c;
}

bool cp_is_cased_lower(char32_t c) { return cp_upper(c) != c || c == 0xdf; }
bool cp_is_cased_upper(char32_t c) { return cp_lower(c) != c; }
bool cp_is_digit(char32_t c) { return c >= '0' && c <= '9'; }
bool cp_is_alpha(char32_t c) {
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return cp_is_cased_lower(c) || cp_is_cased_upper(c) || (c >= 0x4e00 && c <= 0x9fff);
}
bool cp_is_alnum(char32_t c) { return cp_is_alpha(c) || cp_is_digit(c); }

std::string py_upper(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t p = 0; p < s.size();) {
        char32_t c = utf8_next(s, p);
        if (c == 0xdf) {  // German sharp s has no single-letter uppercase: Python gives "SS"
            out += "SS";
            continue;
        }
        utf8_append(out, cp_upper(c));
    }
    return out;
}

std::string py_lower(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t p = 0; p < s.size();) utf8_append(out, cp_lower(utf8_next(s, p)));
    return out;
}

std::vector<std::string> py_splitlines(std::string_view s) {
    std::vector<std::string> lines;
    size_t start = 0, p = 0;
    while (p < s.size()) {
        size_t at = p;
        char32_t c = utf8_next(s, p);
        bool brk = c == '\n' || c == '\r' || c == 0x0b || c == 0x0c || (c >= 0x1c && c <= 0x1e) ||
                   c == 0x85 || c == 0x2028 || c == 0x2029;
        if (!brk) continue;
        lines.emplace_back(s.substr(start, at - start));
        if (c == '\r' && p < s.size() && s[p] == '\n') ++p;
        start = p;
    }
    if (start < s.size()) lines.emplace_back(s.substr(start));
    return lines;
}

}  // namespace llcuda::tmpl
