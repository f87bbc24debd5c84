// UTF-8 helpers with the exact rules the tokenizer needs to agree with Hugging Face `tokenizers`
// (Rust) and Python: strict validation, and replacement of invalid bytes by U+FFFD using the
// "maximal subpart" rule (one U+FFFD per maximal prefix of a valid sequence, as Rust's
// String::from_utf8_lossy and Python's errors="replace" do).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace llcuda::tokenizer_detail {

inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at s[i], or 0 when the bytes there are not one.
size_t utf8_valid_len(std::string_view s, size_t i);

// Offset of the first invalid byte, or npos when the whole string is valid UTF-8.
size_t utf8_first_invalid(std::string_view s);

// Invalid subsequences replaced by U+FFFD (maximal-subpart rule).
std::string utf8_lossy(std::string_view s);

// Length of an incomplete but so far valid sequence at the end of s (0..3): the bytes a streaming
// decoder must hold back because the next bytes may complete them.
size_t utf8_incomplete_tail(std::string_view s);

// Length of the UTF-8 sequence that starts with this lead byte (1 for invalid leads).
inline size_t utf8_seq_len(unsigned char lead) {
    if (lead < 0x80) return 1;
    if ((lead & 0xE0) == 0xC0) return 2;
    if ((lead & 0xF0) == 0xE0) return 3;
    if ((lead & 0xF8) == 0xF0) return 4;
    return 1;
}

// Decodes the (valid) sequence at s[i]; advances i.
uint32_t utf8_decode(std::string_view s, size_t& i);
void utf8_append(std::string& out, uint32_t cp);

}  // namespace llcuda::tokenizer_detail
