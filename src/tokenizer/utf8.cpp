#include "tokenizer/utf8.h"

#include "llcuda/tokenizer.h"

namespace llcuda::tokenizer_detail {

namespace {

// Valid range of the second byte for a lead byte (Unicode Table 3-7); the remaining continuation
// bytes are always 0x80..0xBF. Encodes the surrogate and overlong exclusions.
bool second_byte_ok(unsigned char lead, unsigned char b) {
    if (lead == 0xE0) return b >= 0xA0 && b <= 0xBF;
    if (lead == 0xED) return b >= 0x80 && b <= 0x9F;
    if (lead == 0xF0) return b >= 0x90 && b <= 0xBF;
    if (lead == 0xF4) return b >= 0x80 && b <= 0x8F;
    return b >= 0x80 && b <= 0xBF;
}

size_t expected_len(unsigned char lead) {
    if (lead < 0x80) return 1;
    if (lead >= 0xC2 && lead <= 0xDF) return 2;
    if (lead >= 0xE0 && lead <= 0xEF) return 3;
    if (lead >= 0xF0 && lead <= 0xF4) return 4;
    return 0;  // 0x80..0xC1, 0xF5..0xFF never start a sequence
}

// Number of bytes at s[i] that form a valid prefix of some sequence (at least 1 when the lead is
// a valid lead byte), and whether the sequence is complete.
size_t valid_prefix(std::string_view s, size_t i, bool& complete) {
    complete = false;
    const auto lead = static_cast<unsigned char>(s[i]);
    const size_t n = expected_len(lead);
    if (n == 0) return 0;
    if (n == 1) { complete = true; return 1; }
    size_t k = 1;
    while (k < n && i + k < s.size()) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        const bool ok = k == 1 ? second_byte_ok(lead, b) : (b >= 0x80 && b <= 0xBF);
        if (!ok) return k;
        ++k;
    }
    complete = k == n;
    return k;
}

}  // namespace

size_t utf8_valid_len(std::string_view s, size_t i) {
    bool complete = false;
    const size_t k = valid_prefix(s, i, complete);
    return complete ? k : 0;
}

size_t utf8_first_invalid(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        if (static_cast<unsigned char>(s[i]) < 0x80) { ++i; continue; }
        const size_t n = utf8_valid_len(s, i);
        if (n == 0) return i;
        i += n;
    }
    return std::string_view::npos;
}

std::string utf8_lossy(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        bool complete = false;
        const size_t k = valid_prefix(s, i, complete);
        if (complete) {
            out.append(s.substr(i, k));
            i += k;
        } else {
            out.append(kReplacementChar);  // the maximal subpart (or one bad byte) is one U+FFFD
            i += k == 0 ? 1 : k;
        }
    }
    return out;
}

size_t utf8_incomplete_tail(std::string_view s) {
    // Look at the last up-to-3 bytes for a lead whose valid prefix runs to the end, incomplete.
    const size_t n = s.size();
    for (size_t back = 1; back <= 3 && back <= n; ++back) {
        const size_t i = n - back;
        const auto b = static_cast<unsigned char>(s[i]);
        if (b >= 0x80 && b <= 0xBF) continue;  // continuation: the lead is further back
        bool complete = false;
        const size_t k = valid_prefix(s, i, complete);
        return (!complete && k == back) ? back : 0;
    }
    return 0;
}

uint32_t utf8_decode(std::string_view s, size_t& i) {
    const auto lead = static_cast<unsigned char>(s[i]);
    const size_t n = utf8_seq_len(lead);
    uint32_t cp = n == 1 ? lead : n == 2 ? (lead & 0x1F) : n == 3 ? (lead & 0x0F) : (lead & 0x07);
    for (size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += n;
    return cp;
}

void utf8_append(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

}  // namespace llcuda::tokenizer_detail

namespace llcuda {

std::optional<size_t> first_invalid_utf8(std::string_view text) {
    const size_t at = tokenizer_detail::utf8_first_invalid(text);
    if (at == std::string_view::npos) return std::nullopt;
    return at;
}

}  // namespace llcuda
