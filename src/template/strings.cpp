// Python str algorithms over UTF-8 text; see strings.h.
#include "template/strings.h"

#include "template/interpreter.h"
#include "template/utf8.h"

namespace llcuda::tmpl {

std::vector<std::string> py_split(const std::string& s, const std::string* sep, int64_t maxsplit, bool from_right) {
    std::vector<std::string> parts;
    if (sep && sep->empty()) type_error("empty separator");
    if (maxsplit < 0) maxsplit = INT64_MAX;
    if (sep) {
        if (!from_right) {
            size_t start = 0;
            while (int64_t(parts.size()) < maxsplit) {
                size_t at = s.find(*sep, start);
                if (at == std::string::npos) break;
                parts.push_back(s.substr(start, at - start));
                start = at + sep->size();
            }
            parts.push_back(s.substr(start));
            return parts;
        }
        size_t end = s.size();
        std::vector<std::string> rev;
        while (int64_t(rev.size()) < maxsplit && end >= sep->size()) {
            size_t at = s.rfind(*sep, end - sep->size());
            if (at == std::string::npos) break;
            rev.push_back(s.substr(at + sep->size(), end - at - sep->size()));
            end = at;
        }
        rev.push_back(s.substr(0, end));
        return {rev.rbegin(), rev.rend()};
    }
    // Whitespace split: runs of whitespace separate, leading/trailing whitespace ignored.
    std::vector<std::pair<size_t, size_t>> words;
    size_t p = 0;
    while (p < s.size()) {
        size_t q = p;
        if (py_isspace(utf8_next(s, q))) {
            p = q;
            continue;
        }
        size_t start = p;
        while (p < s.size()) {
            q = p;
            if (py_isspace(utf8_next(s, q))) break;
            p = q;
        }
        words.emplace_back(start, p);
    }
    if (words.empty()) return parts;
    if (int64_t(words.size()) - 1 <= maxsplit) {
        for (auto [a, b] : words) parts.push_back(s.substr(a, b - a));
        return parts;
    }
    if (!from_right) {
        for (int64_t k = 0; k < maxsplit; ++k) parts.push_back(s.substr(words[k].first, words[k].second - words[k].first));
        parts.push_back(s.substr(words[size_t(maxsplit)].first));  // the rest keeps its trailing whitespace
        return parts;
    }
    size_t keep = words.size() - size_t(maxsplit);
    parts.push_back(s.substr(0, words[keep - 1].second));  // the rest keeps its leading whitespace
    for (size_t k = keep; k < words.size(); ++k) parts.push_back(s.substr(words[k].first, words[k].second - words[k].first));
    return parts;
}

std::string py_replace(Interpreter& in, const std::string& s, const std::string& old, const std::string& repl, int64_t count) {
    if (count < 0) count = INT64_MAX;
    std::string out;
    if (old.empty()) {
        // Python inserts the replacement before every code point and at the end.
        int64_t n = 0;
        size_t p = 0;
        while (p < s.size()) {
            if (n < count) {
                out += repl;
                ++n;
            }
            size_t start = p;
            utf8_next(s, p);
            out.append(s, start, p - start);
            in.check_size(out.size());
        }
        if (n < count) out += repl;
        return out;
    }
    size_t start = 0;
    int64_t n = 0;
    while (n < count) {
        size_t at = s.find(old, start);
        if (at == std::string::npos) break;
        out.append(s, start, at - start);
        out += repl;
        in.check_size(out.size());
        start = at + old.size();
        ++n;
    }
    out.append(s, start, std::string::npos);
    in.check_size(out.size());
    return out;
}

std::string py_title(const std::string& s) {
    std::string out;
    bool prev_cased = false;
    for (size_t p = 0; p < s.size();) {
        char32_t c = utf8_next(s, p);
        bool cased = cp_is_cased_lower(c) || cp_is_cased_upper(c);
        if (cased) {
            if (!prev_cased && c == 0xdf) out += "Ss";
            else utf8_append(out, prev_cased ? cp_lower(c) : cp_upper(c));
        } else {
            utf8_append(out, c);
        }
        prev_cased = cased;
    }
    return out;
}

std::string py_capitalize(const std::string& s) {
    if (s.empty()) return s;
    size_t p = 0;
    char32_t c = utf8_next(s, p);
    std::string out;
    if (c == 0xdf) out = "Ss";
    else utf8_append(out, cp_upper(c));
    return out + py_lower(s.substr(p));
}

std::string jinja_title(const std::string& s) {
    // Words start after runs of whitespace, '-', '(', '{', '[' or '<'; each word is capitalised
    // by upper-casing its first character and lower-casing the rest.
    std::string out;
    bool word_start = true;
    for (size_t p = 0; p < s.size();) {
        char32_t c = utf8_next(s, p);
        bool sep = py_isspace(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
        if (sep) {
            utf8_append(out, c);
            word_start = true;
        } else if (word_start) {
            if (c == 0xdf) out += "SS";
            else utf8_append(out, cp_upper(c));
            word_start = false;
        } else {
            utf8_append(out, cp_lower(c));
        }
    }
    return out;
}

std::string html_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&#34;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

}  // namespace llcuda::tmpl
