#include "tokenizer/normalizer.h"

#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "llcuda/error.h"

namespace llcuda::tokenizer_detail {

namespace {

const UNormalizer2* icu_instance(NormalizerStep::Kind kind) {
    UErrorCode status = U_ZERO_ERROR;
    const UNormalizer2* n = nullptr;
    switch (kind) {
        case NormalizerStep::Kind::Nfc: n = unorm2_getNFCInstance(&status); break;
        case NormalizerStep::Kind::Nfd: n = unorm2_getNFDInstance(&status); break;
        case NormalizerStep::Kind::Nfkc: n = unorm2_getNFKCInstance(&status); break;
        case NormalizerStep::Kind::Nfkd: n = unorm2_getNFKDInstance(&status); break;
        default: break;
    }
    if (U_FAILURE(status) || n == nullptr) throw Error(ErrorKind::Internal, "tokenizer: ICU normalizer unavailable");
    return n;
}

std::u16string to_utf16(std::string_view s) {
    UErrorCode status = U_ZERO_ERROR;
    int32_t len = 0;
    u_strFromUTF8(nullptr, 0, &len, s.data(), static_cast<int32_t>(s.size()), &status);
    std::u16string out(static_cast<size_t>(len), u'\0');
    status = U_ZERO_ERROR;
    u_strFromUTF8(out.data(), len, nullptr, s.data(), static_cast<int32_t>(s.size()), &status);
    if (U_FAILURE(status)) throw Error(ErrorKind::InvalidArgument, "tokenizer: text is not valid UTF-8");
    return out;
}

std::string to_utf8(const std::u16string& s) {
    UErrorCode status = U_ZERO_ERROR;
    int32_t len = 0;
    u_strToUTF8(nullptr, 0, &len, s.data(), static_cast<int32_t>(s.size()), &status);
    std::string out(static_cast<size_t>(len), '\0');
    status = U_ZERO_ERROR;
    u_strToUTF8(out.data(), len, nullptr, s.data(), static_cast<int32_t>(s.size()), &status);
    if (U_FAILURE(status)) throw Error(ErrorKind::Internal, "tokenizer: ICU UTF-16 to UTF-8 failed");
    return out;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
    if (from.empty()) return;
    std::string out;
    size_t pos = 0;
    for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
        out.append(s, pos, hit - pos);
        out.append(to);
    }
    if (pos == 0) return;  // nothing replaced
    out.append(s, pos, std::string::npos);
    s = std::move(out);
}

}  // namespace

std::string unicode_normalize(std::string_view text, NormalizerStep::Kind kind) {
    // ASCII is invariant under all four forms; most text is ASCII, so skip ICU for it.
    bool ascii = true;
    for (unsigned char c : text) ascii = ascii && c < 0x80;
    if (ascii) return std::string(text);
    const UNormalizer2* n = icu_instance(kind);
    const std::u16string src = to_utf16(text);
    UErrorCode status = U_ZERO_ERROR;
    if (unorm2_isNormalized(n, src.data(), static_cast<int32_t>(src.size()), &status) && U_SUCCESS(status))
        return std::string(text);
    status = U_ZERO_ERROR;
    int32_t len = unorm2_normalize(n, src.data(), static_cast<int32_t>(src.size()), nullptr, 0, &status);
    std::u16string dst(static_cast<size_t>(len), u'\0');
    status = U_ZERO_ERROR;
    unorm2_normalize(n, src.data(), static_cast<int32_t>(src.size()), dst.data(), len, &status);
    if (U_FAILURE(status)) throw Error(ErrorKind::Internal, "tokenizer: ICU normalization failed");
    return to_utf8(dst);
}

bool Normalizer::has(NormalizerStep::Kind kind) const {
    for (const auto& s : steps_) if (s.kind == kind) return true;
    return false;
}

std::string Normalizer::apply(std::string_view text) const {
    std::string s(text);
    for (const auto& step : steps_) {
        switch (step.kind) {
            case NormalizerStep::Kind::Prepend:
                if (!s.empty()) s.insert(0, step.a);  // HF prepends only to non-empty text
                break;
            case NormalizerStep::Kind::Replace: replace_all(s, step.a, step.b); break;
            default: s = unicode_normalize(s, step.kind); break;
        }
    }
    return s;
}

}  // namespace llcuda::tokenizer_detail
