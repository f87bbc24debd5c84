// libFuzzer target for the grammar front ends: GBNF text (and then matching some bytes through the
// compiled automaton) or a JSON Schema, chosen by the first input byte. Any llcuda::Error is a
// correct answer; a crash, a sanitizer report or a hang is a bug. Build and seeds:
// tests/fuzz/build_grammar_fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "grammar/automaton.h"
#include "grammar/grammar.h"
#include "llcuda/error.h"
#include "llcuda/grammar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    try {
        if (data[0] & 1) {
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
