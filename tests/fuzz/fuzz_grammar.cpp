// libFuzzer target for the grammar front ends, chosen by the first input byte: a JSON Schema (bit
// 0), GBNF text and then some bytes matched through the compiled automaton, or (bit 1) GBNF text
// and a walk of the Matcher over a small vocabulary made from the input, where every step's mask
// (frames, caches) must equal a brute force over that vocabulary. Any llcuda::Error is a correct
// answer; a crash, a sanitizer report, a hang or a mask that differs is a bug. Build and seeds:
// tests/fuzz/build_grammar_fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "grammar/automaton.h"
#include "grammar/grammar.h"
#include "grammar/matcher.h"
#include "grammar/token_vocabulary.h"
#include "llcuda/error.h"
#include "llcuda/grammar.h"

namespace {

using llcuda::grammar::Automaton;

// Tokens: every single byte, every pair of the text's first 12 distinct bytes, the text's 3..8-byte
// substrings from its first 64 positions, and one end-of-generation token (the last id).
std::shared_ptr<llcuda::grammar::TokenVocabulary> small_vocabulary(std::string_view text) {
    std::set<std::string> tokens;
    for (int b = 0; b < 256; ++b) tokens.insert(std::string(1, char(b)));
    std::string alphabet;
    for (char c : text) {
        if (alphabet.find(c) == std::string::npos && alphabet.size() < 12) alphabet += c;
    }
    for (char a : alphabet) {
        for (char b : alphabet) tokens.insert(std::string{a, b});
    }
    for (size_t i = 0; i < text.size() && i < 64; ++i) {
        for (size_t n = 3; n <= 8 && i + n <= text.size(); ++n) tokens.insert(std::string(text.substr(i, n)));
    }
    std::vector<std::string> bytes(tokens.begin(), tokens.end());
    bytes.emplace_back();  // the end token
    const int32_t end = int32_t(bytes.size() - 1);
    return llcuda::grammar::vocabulary_from_bytes(std::move(bytes), {end});
}

// Up to 24 steps: the mask against every token run through a separate automaton, then a token
// chosen by the next input byte among the allowed ones.
void differential_walk(std::string_view gbnf, std::string_view text) {
    auto vocab = small_vocabulary(text);
    llcuda::grammar::Matcher m(vocab, llcuda::grammar::parse_gbnf(gbnf));
    Automaton reference(llcuda::grammar::parse_gbnf(gbnf));
    int32_t state = reference.initial();
    for (size_t step = 0; step < 24; ++step) {
        const auto& mask = m.allowed();
        std::vector<int32_t> allowed;
        for (uint32_t t = 0; t < vocab->n_rows; ++t) {
            bool expect;
            if (vocab->is_end(int32_t(t))) {
                expect = reference.accepting(state);
            } else {
                int32_t s = state;
                for (char c : vocab->bytes[t]) {
                    s = reference.step(s, uint8_t(c));
                    if (s == Automaton::kDead) break;
                }
                expect = s != Automaton::kDead;
                if (expect) allowed.push_back(int32_t(t));
            }
            if (((mask[t >> 6] >> (t & 63)) & 1) != uint64_t(expect)) std::abort();  // the mask is wrong
        }
        if (allowed.empty()) return;
        const uint8_t pick = step < text.size() ? uint8_t(text[step]) : uint8_t(step * 37);
        const int32_t t = allowed[pick % allowed.size()];
        m.accept(t);
        for (char c : vocab->bytes[size_t(t)]) state = reference.step(state, uint8_t(c));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
        if ((data[0] & 3) == 2) {
            const size_t cut = input.find('\0');
            differential_walk(input.substr(0, cut), cut == std::string_view::npos ? std::string_view() : input.substr(cut + 1));
        } else if (data[0] & 1) {
            const std::string gbnf = llcuda::json_schema_to_grammar(input);
            llcuda::grammar::parse_gbnf(gbnf);
        } else {
            // GBNF, then after a NUL byte the text to match.
            const size_t cut = input.find('\0');
            llcuda::grammar::Automaton a(llcuda::grammar::parse_gbnf(input.substr(0, cut)));
            if (cut != std::string_view::npos) {
                int32_t s = a.initial();
                for (char c : input.substr(cut + 1)) {
                    s = a.step(s, uint8_t(c));
                    if (s == llcuda::grammar::Automaton::kDead) break;
                }
            }
        }
    } catch (const llcuda::Error&) {
    }
    return 0;
}
