#include "tokenizer/decoder.h"

#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace llcuda::tokenizer_detail {

namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

std::vector<std::string> decode_byte_level(std::vector<std::string> tokens) {
    const auto& map = ByteLevelMap::get();
    std::string bytes;
    for (const auto& t : tokens)
        if (!map.decode(t, bytes)) bytes += t;
    return {utf8_lossy(bytes)};
}

void replace_in(std::vector<std::string>& tokens, const std::string& from, const std::string& to) {
    if (from.empty()) return;
    for (auto& t : tokens) {
        std::string out;
        size_t pos = 0;
        for (size_t hit; (hit = t.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
            out.append(t, pos, hit - pos);
            out += to;
        }
        if (pos == 0) continue;
        out.append(t, pos, std::string::npos);
        t = std::move(out);
    }
}

std::vector<std::string> byte_fallback(std::vector<std::string> tokens) {
    std::vector<std::string> out;
    std::string run;
    size_t run_tokens = 0;
    auto flush = [&] {
        if (run_tokens == 0) return;
        if (utf8_first_invalid(run) == std::string::npos) out.push_back(run);
        else for (size_t i = 0; i < run_tokens; ++i) out.emplace_back(kReplacementChar);
        run.clear();
        run_tokens = 0;
    };
    for (auto& t : tokens) {
        const int b = byte_token_value(t);
        if (b >= 0) { run.push_back(static_cast<char>(b)); ++run_tokens; continue; }
        flush();
        out.push_back(std::move(t));
    }
    flush();
    return out;
}

void strip(std::vector<std::string>& tokens, const std::string& content, size_t start, size_t stop) {
    for (auto& t : tokens) {
        size_t b = 0, e = t.size();
        for (size_t k = 0; k < start && t.compare(b, content.size(), content) == 0 && b + content.size() <= e; ++k)
            b += content.size();
        for (size_t k = 0; k < stop && e >= b + content.size() && t.compare(e - content.size(), content.size(), content) == 0; ++k)
            e -= content.size();
        t = t.substr(b, e - b);
    }
}

}  // namespace

int byte_token_value(const std::string& token) {
    if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>') return -1;
    const int hi = hex_digit(token[3]), lo = hex_digit(token[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

bool Decoder::byte_level() const {
    for (const auto& s : steps_) if (s.kind == DecoderStep::Kind::ByteLevel) return true;
    return false;
}

std::string Decoder::decode(std::vector<std::string> tokens) const {
    for (const auto& step : steps_) {
        switch (step.kind) {
            case DecoderStep::Kind::ByteLevel: tokens = decode_byte_level(std::move(tokens)); break;
            case DecoderStep::Kind::Replace: replace_in(tokens, step.a, step.b); break;
            case DecoderStep::Kind::ByteFallback: tokens = byte_fallback(std::move(tokens)); break;
            case DecoderStep::Kind::Fuse: {
                std::string all;
                for (const auto& t : tokens) all += t;
                tokens.assign(1, std::move(all));
                break;
            }
            case DecoderStep::Kind::Strip: strip(tokens, step.a, step.start, step.stop); break;
            case DecoderStep::Kind::Metaspace:
                for (size_t i = 0; i < tokens.size(); ++i) {
                    std::vector<std::string> one{std::move(tokens[i])};
                    replace_in(one, step.a, i == 0 && step.start ? "" : " ");
                    tokens[i] = std::move(one[0]);
                }
                break;
        }
    }
    std::string out;
    for (const auto& t : tokens) out += t;
    return out;
}

}  // namespace llcuda::tokenizer_detail
