// Streaming decode. The two decoder chains llcuda builds are handled incrementally:
//   byte-level   token -> bytes; everything but an incomplete UTF-8 tail is returned. Cutting
//                there is safe: the tail starts at a lead byte, which is also where the lossy
//                conversion of the whole text starts a new sequence, so the pieces concatenate to
//                exactly decode(all ids).
//   SentencePiece  "▁" -> " ", byte-fallback runs resolved only when the run ends (a later byte
//                can make the whole run invalid, which turns every byte of it into U+FFFD),
//                leading-space strip applied to the start of the stream.
// Any other chain (a tokenizer.json with an unusual decoder) is rejected at construction.
#include "llcuda/error.h"
#include "llcuda/tokenizer.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/impl.h"
#include "tokenizer/utf8.h"

namespace llcuda {

using tokenizer_detail::DecoderStep;

namespace {

bool spm_chain(const std::vector<DecoderStep>& steps) {
    // Replace* ByteFallback? Fuse? Strip(start only)? — in this order.
    size_t i = 0;
    while (i < steps.size() && steps[i].kind == DecoderStep::Kind::Replace) ++i;
    if (i < steps.size() && steps[i].kind == DecoderStep::Kind::ByteFallback) ++i;
    if (i < steps.size() && steps[i].kind == DecoderStep::Kind::Fuse) ++i;
    if (i < steps.size() && steps[i].kind == DecoderStep::Kind::Strip && steps[i].stop == 0 && i > 0 &&
        steps[i - 1].kind == DecoderStep::Kind::Fuse)
        ++i;
    return i == steps.size() && !steps.empty();
}

void replace_all(std::string& t, const std::string& from, const std::string& to) {
    if (from.empty()) return;
    std::string out;
    size_t pos = 0;
    for (size_t hit; (hit = t.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
        out.append(t, pos, hit - pos);
        out += to;
    }
    if (pos == 0) return;
    out.append(t, pos, std::string::npos);
    t = std::move(out);
}

}  // namespace

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, DecodeOptions options)
    : tokenizer_(&tokenizer), options_(options) {
    const auto& steps = tokenizer.impl().decoder.steps();
    if (steps.size() == 1 && steps[0].kind == DecoderStep::Kind::ByteLevel) {
        byte_level_ = true;
    } else if (spm_chain(steps)) {
        for (const auto& s : steps)
            if (s.kind == DecoderStep::Kind::Strip) {
                if (s.a != " ") throw Error(ErrorKind::Unsupported, "tokenizer: streaming Strip of \"" + s.a + "\"");
                strip_left_ = s.start;
            }
    } else {
        throw Error(ErrorKind::Unsupported, "tokenizer: streaming decode of this decoder chain is not supported");
    }
}

std::string StreamDecoder::push(int32_t id) {
    const auto& im = tokenizer_->impl();
    im.check_id(id, "decoded token");
    if (options_.skip_special && im.special[id]) return take_complete(false);
    const std::string& token = im.tokens[id];
    if (byte_level_) {
        if (!tokenizer_detail::ByteLevelMap::get().decode(token, pending_)) pending_ += token;
        return take_complete(false);
    }
    if (const int b = tokenizer_detail::byte_token_value(token); b >= 0 && has_byte_fallback()) {
        byte_run_.push_back(static_cast<char>(b));
        ++n_run_tokens_;
        return take_complete(false);
    }
    resolve_byte_run();
    std::string text = token;
    for (const auto& s : im.decoder.steps())
        if (s.kind == DecoderStep::Kind::Replace) replace_all(text, s.a, s.b);
    pending_ += text;
    return take_complete(false);
}

std::string StreamDecoder::finish() {
    resolve_byte_run();
    return take_complete(true);
}

bool StreamDecoder::has_byte_fallback() const {
    for (const auto& s : tokenizer_->impl().decoder.steps())
        if (s.kind == DecoderStep::Kind::ByteFallback) return true;
    return false;
}

void StreamDecoder::resolve_byte_run() {
    if (n_run_tokens_ == 0) return;
    if (tokenizer_detail::utf8_first_invalid(byte_run_) == std::string::npos) {
        pending_ += byte_run_;
    } else {
        for (size_t i = 0; i < n_run_tokens_; ++i) pending_ += tokenizer_detail::kReplacementChar;
    }
    byte_run_.clear();
    n_run_tokens_ = 0;
}

std::string StreamDecoder::take_complete(bool final) {
    std::string out;
    if (byte_level_) {
        const size_t hold = final ? 0 : tokenizer_detail::utf8_incomplete_tail(pending_);
        out = tokenizer_detail::utf8_lossy(std::string_view(pending_).substr(0, pending_.size() - hold));
        pending_.erase(0, pending_.size() - hold);
        return out;
    }
    out.swap(pending_);
    while (strip_left_ > 0 && !out.empty()) {
        if (out[0] != ' ') { strip_left_ = 0; break; }
        out.erase(0, 1);
        --strip_left_;
    }
    return out;
}

}  // namespace llcuda
