#include "tokenizer/byte_level.h"

#include "tokenizer/utf8.h"

namespace llcuda::tokenizer_detail {

const ByteLevelMap& ByteLevelMap::get() {
    static const ByteLevelMap map;  // immutable after construction: safe to share between threads
    return map;
}

ByteLevelMap::ByteLevelMap() {
    byte_of_cp_.fill(-1);
    uint32_t next_extra = 256;
    for (uint32_t b = 0; b < 256; ++b) {
        const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        const uint32_t cp = printable ? b : next_extra++;
        utf8_append(printable_[b], cp);
        byte_of_cp_[cp] = static_cast<int16_t>(b);
    }
}

void ByteLevelMap::encode(std::string_view bytes, std::string& out) const {
    for (unsigned char b : bytes) out.append(printable_[b]);
}

bool ByteLevelMap::decode(std::string_view text, std::string& out) const {
    const size_t start = out.size();
    size_t i = 0;
    while (i < text.size()) {
        if (utf8_valid_len(text, i) == 0) { out.resize(start); return false; }
        const int b = byte_of(utf8_decode(text, i));
        if (b < 0) { out.resize(start); return false; }
        out.push_back(static_cast<char>(b));
    }
    return true;
}

}  // namespace llcuda::tokenizer_detail
