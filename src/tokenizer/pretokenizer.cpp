#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pretokenizer.h"

#include <pcre2.h>

#include "llcuda/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/utf8.h"

namespace llcuda::tokenizer_detail {

namespace {

// HF runs these patterns on Oniguruma, whose Unicode \s is exactly the White_Space property.
// PCRE2 10.42's \s under UCP differs (it adds U+180E and lacks U+0085), so \s and \S are
// rewritten to the White_Space list itself. Found by the random-string goldens.
constexpr std::string_view kWhiteSpace = "\\t-\\r \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}";

std::string translate_regex(std::string_view p) {
    std::string out;
    bool in_class = false;
    for (size_t i = 0; i < p.size(); ++i) {
        const char c = p[i];
        if (c == '\\' && i + 1 < p.size()) {
            const char e = p[++i];
            if (e == 's') {
                if (!in_class) out += '[';
                out += kWhiteSpace;
                if (!in_class) out += ']';
            } else if (e == 'S') {
                if (in_class) throw Error(ErrorKind::Unsupported, "tokenizer: \\S inside a character class is not supported");
                out += "[^";
                out += kWhiteSpace;
                out += ']';
            } else {
                out += c;
                out += e;
            }
            continue;
        }
        if (c == '[' && !in_class) {
            in_class = true;
            out += c;
            // A ']' right after '[' or '[^' is a literal, not the end of the class.
            if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
            if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
            continue;
        }
        if (c == '[' && in_class && i + 1 < p.size() && p[i + 1] == ':') {  // POSIX [:name:]
            const size_t end = p.find(":]", i + 2);
            if (end != std::string_view::npos) { out.append(p.substr(i, end + 2 - i)); i = end + 1; continue; }
        }
        if (c == ']' && in_class) in_class = false;
        out += c;
    }
    return out;
}

pcre2_code* code_of(void* p) { return static_cast<pcre2_code*>(p); }

}  // namespace

Regex::Regex(std::string_view pattern) : pattern_(pattern) {
    const std::string translated = translate_regex(pattern);
    int err = 0;
    PCRE2_SIZE err_offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                                     PCRE2_UTF | PCRE2_UCP, &err, &err_offset, nullptr);
    if (code == nullptr) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        throw Error(ErrorKind::InvalidArgument, "tokenizer: bad pre-tokenizer regex at offset " +
                                                    std::to_string(err_offset) + ": " +
                                                    reinterpret_cast<const char*>(msg) + " in " + pattern_);
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // failure is fine: the interpreter is used
    code_ = code;
}

Regex::~Regex() { pcre2_code_free(code_of(code_)); }

void Regex::split_isolated(std::string_view text, std::vector<std::string>& out) const {
    // Match data is per call: the compiled code is shared between threads, match data is not.
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(code_of(code_), nullptr);
    if (md == nullptr) throw Error(ErrorKind::OutOfMemory, "tokenizer: pcre2 match data");
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t last = 0, pos = 0;
    while (pos <= text.size()) {
        const int rc = pcre2_match(code_of(code_), subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            pcre2_match_data_free(md);
            throw Error(ErrorKind::Internal, "tokenizer: pcre2_match failed with code " + std::to_string(rc));
        }
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        const size_t start = ov[0], end = ov[1];
        if (end == start) {  // empty match: not a piece; step over one character
            if (start >= text.size()) break;
            pos = start + utf8_seq_len(static_cast<unsigned char>(text[start]));
            continue;
        }
        if (start > last) out.emplace_back(text.substr(last, start - last));
        out.emplace_back(text.substr(start, end - start));
        last = pos = end;
    }
    pcre2_match_data_free(md);
    if (last < text.size()) out.emplace_back(text.substr(last));
}

PreTokenizer::PreTokenizer(std::vector<PreTokenizerStep> steps) : steps_(std::move(steps)) {
    for (size_t i = 0; i < steps_.size(); ++i) {
        const auto& s = steps_[i];
        if (s.kind == PreTokenizerStep::Kind::ByteLevel && i + 1 != steps_.size())
            throw Error(ErrorKind::Unsupported, "tokenizer: ByteLevel must be the last pre-tokenizer step");
        std::shared_ptr<const Regex> re;
        if (s.kind == PreTokenizerStep::Kind::Split) re = std::make_shared<Regex>(s.regex);
        if (s.kind == PreTokenizerStep::Kind::Digits) re = std::make_shared<Regex>(s.individual_digits ? "\\p{N}" : "\\p{N}+");
        if (s.kind == PreTokenizerStep::Kind::ByteLevel && s.use_regex) re = std::make_shared<Regex>(kGpt2Regex);
        regexes_.push_back(std::move(re));
    }
}

bool PreTokenizer::byte_level() const {
    return !steps_.empty() && steps_.back().kind == PreTokenizerStep::Kind::ByteLevel;
}

namespace {

// HF Metaspace: replace spaces, prepend per the scheme, split with "merged with next" behaviour.
void metaspace(const PreTokenizerStep& step, std::string& piece, bool first_piece, std::vector<std::string>& out) {
    const std::string& rep = step.replacement;
    std::string s;
    for (char c : piece) {
        if (c == ' ') s += rep;
        else s += c;
    }
    const bool prepend = step.prepend == PreTokenizerStep::Prepend::Always ||
                         (step.prepend == PreTokenizerStep::Prepend::First && first_piece);
    if (prepend && s.compare(0, rep.size(), rep) != 0) s.insert(0, rep);
    if (!step.split || rep.empty()) {
        out.push_back(std::move(s));
        return;
    }
    size_t start = 0;
    for (size_t hit = s.find(rep, 1); hit != std::string::npos; hit = s.find(rep, hit + rep.size())) {
        if (hit > start) out.push_back(s.substr(start, hit - start));
        start = hit;
    }
    if (start < s.size()) out.push_back(s.substr(start));
}

}  // namespace

std::vector<std::string> PreTokenizer::split(std::string_view text, bool at_input_start) const {
    std::vector<std::string> pieces;
    pieces.emplace_back(text);
    std::vector<std::string> next;
    for (size_t i = 0; i < steps_.size(); ++i) {
        const auto& step = steps_[i];
        next.clear();
        for (size_t k = 0; k < pieces.size(); ++k) {
            auto& piece = pieces[k];
            if (step.kind == PreTokenizerStep::Kind::Metaspace) {
                // Only the first piece of the segment can sit at original offset 0.
                metaspace(step, piece, at_input_start && k == 0, next);
                continue;
            }
            if (step.kind == PreTokenizerStep::Kind::ByteLevel && step.add_prefix_space &&
                (piece.empty() || piece[0] != ' '))
                piece.insert(piece.begin(), ' ');
            if (regexes_[i]) regexes_[i]->split_isolated(piece, next);
            else next.push_back(std::move(piece));
        }
        pieces.swap(next);
    }
    if (byte_level()) {
        const auto& map = ByteLevelMap::get();
        for (auto& p : pieces) {
            std::string mapped;
            map.encode(p, mapped);
            p = std::move(mapped);
        }
    }
    return pieces;
}

}  // namespace llcuda::tokenizer_detail
