// GPT-2's reversible byte <-> printable character map. Byte-level BPE vocabularies store tokens
// with every byte replaced by one printable code point, so that a token never contains raw
// whitespace or control bytes (a space is "Ġ", U+0120). Printable Latin-1 bytes map to themselves;
// the other 68 bytes map to U+0100.. in byte order.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace llcuda::tokenizer_detail {

class ByteLevelMap {
public:
    static const ByteLevelMap& get();

    // Appends the printable form of every byte of `bytes`.
    void encode(std::string_view bytes, std::string& out) const;
    // The byte a printable code point stands for, or -1 when it is not in the map.
    int byte_of(uint32_t cp) const { return cp < byte_of_cp_.size() ? byte_of_cp_[cp] : -1; }
    // Decodes a token's text back to bytes. Returns false (leaving `out` untouched) when a
    // character is not in the map: HF's decoder then keeps the token's own UTF-8 bytes.
    bool decode(std::string_view text, std::string& out) const;

private:
    ByteLevelMap();
    std::array<std::string, 256> printable_;   // byte -> UTF-8 of its code point
    std::array<int16_t, 324> byte_of_cp_{};     // code point (< 0x144) -> byte, -1 if none
};

}  // namespace llcuda::tokenizer_detail
