#include "grammar/gbnf_text.h"

#include <fmt/format.h>

#include "llcuda/error.h"

namespace llcuda::grammar {

std::string gbnf_char(uint32_t cp) {
    const bool plain = (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
                       cp == ' ' || cp == '_' || cp == ',' || cp == ':' || cp == '.' || cp == '{' || cp == '}' ||
                       cp == '(' || cp == ')' || cp == '+' || cp == '@' || cp == '/' || cp == '=';
    if (plain) return std::string(1, char(cp));
    if (cp < 0x100) return fmt::format("\\x{:02X}", cp);
    if (cp < 0x10000) return fmt::format("\\u{:04X}", cp);
    return fmt::format("\\U{:08X}", cp);
}

std::string gbnf_literal(std::string_view text) {
    std::string out = "\"";
    for (uint32_t cp : utf8_code_points(text)) out += gbnf_char(cp);
    return out + "\"";
}

std::string gbnf_class(const std::vector<std::pair<uint32_t, uint32_t>>& ranges, bool negate) {
    std::string out = negate ? "[^" : "[";
    for (auto [lo, hi] : ranges) {
        out += gbnf_char(lo);
        if (hi != lo) out += "-" + gbnf_char(hi);
    }
    return out + "]";
}

std::vector<uint32_t> utf8_code_points(std::string_view s) {
    std::vector<uint32_t> out;
    for (size_t i = 0; i < s.size();) {
        const uint8_t b0 = uint8_t(s[i]);
        const int n = b0 < 0x80 ? 1 : b0 >= 0xC2 && b0 < 0xE0 ? 2 : b0 >= 0xE0 && b0 < 0xF0 ? 3 : b0 >= 0xF0 && b0 <= 0xF4 ? 4 : 0;
        if (n == 0 || i + size_t(n) > s.size()) throw Error(ErrorKind::InvalidArgument, "invalid UTF-8 in a schema string");
        uint32_t cp = n == 1 ? b0 : b0 & (0x7Fu >> n);
        for (int k = 1; k < n; ++k) {
            const uint8_t b = uint8_t(s[i + size_t(k)]);
            if ((b & 0xC0) != 0x80) throw Error(ErrorKind::InvalidArgument, "invalid UTF-8 in a schema string");
            cp = (cp << 6) | (b & 0x3F);
        }
        static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            throw Error(ErrorKind::InvalidArgument, "invalid UTF-8 in a schema string");
        }
        out.push_back(cp);
        i += size_t(n);
    }
    return out;
}

}  // namespace llcuda::grammar
