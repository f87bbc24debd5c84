// A context-free grammar compiled for matching bytes: every rule is a list of alternatives, every
// alternative a sequence of elements laid out in one array and closed by an End element. The
// terminals are either a set of single bytes (literal text and ASCII-only character classes) or a
// set of Unicode code points matched on their UTF-8 encoding one byte at a time (so a token may
// end in the middle of a character; see automaton.h). Groups and repetitions of the GBNF source
// become anonymous rules, so the matcher only knows sequences, alternatives and rule references.
#pragma once

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llcuda::grammar {

enum class ElemKind : uint8_t {
    End,   // closes an alternative
    Bytes, // one byte from byte_sets[arg]
    Chars, // one code point from classes[arg], UTF-8 encoded
    Rule,  // rules[arg]
};

struct Elem {
    ElemKind kind;
    uint32_t arg;
};

// Sorted, disjoint, inclusive code point ranges; never contains surrogates (U+D800..U+DFFF).
struct CharClass {
    std::vector<std::pair<uint32_t, uint32_t>> ranges;
    bool contains(uint32_t cp) const;
    bool intersects(uint32_t lo, uint32_t hi) const;
};

struct Grammar {
    std::vector<Elem> elems;                       // every alternative, each closed by End
    std::vector<std::vector<uint32_t>> rule_alts;  // [rule] -> start index in elems of each alternative
    std::vector<std::string> rule_names;           // [rule]; anonymous rules are named after their parent
    std::vector<std::bitset<256>> byte_sets;
    std::vector<CharClass> classes;
    uint32_t root = 0;
};

// Limits that keep hostile grammars to bounded work (each exceeded one is an InvalidArgument).
inline constexpr uint32_t kMaxRepetition = 10000;    // n in x{m,n}
inline constexpr size_t kMaxElements = 2'000'000;    // elements after expanding repetitions
inline constexpr int kMaxNesting = 200;              // parenthesis depth

// Parses GBNF (llama.cpp's notation; docs/grammar.md) and compiles it. Throws InvalidArgument
// with "line L, column C" on a syntax error, an undefined rule, a missing root, left recursion or
// a grammar past the limits above.
Grammar parse_gbnf(std::string_view text, std::string_view root = "root");

}  // namespace llcuda::grammar
