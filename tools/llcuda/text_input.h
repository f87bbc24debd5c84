// Text typed by the user: llama.cpp's escape sequences (-e/--escape), and quoting for messages, so
// that a bad line (llcuda::first_invalid_utf8) is reported in the user's own words instead of
// failing deep inside the tokenizer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace llcuda::cli {

// As llama.cpp's string_process_escapes: \n \r \t \' \" \\ \? \a \b \f \v \0 and \xHH; any other
// backslash is kept as written.
inline std::string process_escapes(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '\\' || i + 1 == in.size()) {
            out += in[i];
            continue;
        }
        const char c = in[++i];
        switch (c) {
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case '\'': out += '\''; break;
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '?': out += '?'; break;
            case 'a': out += '\a'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'v': out += '\v'; break;
            case '0': out += '\0'; break;
            case 'x': {
                auto hex = [](char h) -> int {
                    if (h >= '0' && h <= '9') return h - '0';
                    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
                    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
                    return -1;
                };
                if (i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
                    out += char(hex(in[i + 1]) * 16 + hex(in[i + 2]));
                    i += 2;
                } else {
                    out += "\\x";
                }
                break;
            }
            default: out += '\\'; out += c; break;
        }
    }
    return out;
}

// The user's text for a message, with bytes that are not printable ASCII or valid UTF-8 shown as
// \xHH, cut after `max_chars` characters.
inline std::string quote_user_text(std::string_view s, size_t max_chars = 60) {
    std::string out = "\"";
    for (size_t i = 0; i < s.size() && i < max_chars; ++i) {
        const auto b = uint8_t(s[i]);
        if (b >= 0x20 && b < 0x7F && b != '"' && b != '\\') out += char(b);
        else out += fmt::format("\\x{:02x}", b);
    }
    if (s.size() > max_chars) out += "...";
    return out + "\"";
}

}  // namespace llcuda::cli
