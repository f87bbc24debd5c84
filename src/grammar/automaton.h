// The grammar as a lazily built deterministic automaton over bytes.
//
// A parse position is a stack (llama.cpp's representation): the top entry is the terminal to match
// next, the entries below are where to continue after the rule being matched ends. Stacks are
// hash-consed into nodes (top entry + parent node), so equal stacks are one id, and a set of stacks
// (sorted node ids) is one automaton state. step(state, byte) gives the next state and is computed
// once, then read from a table: the grammar's pushdown automaton is determinized only where the
// text actually goes. Pushing a continuation that has nothing left (the element after a rule
// reference is End) is skipped, so right recursion such as x* (r ::= x r | ) keeps the stack flat
// and the states of a long string or list repeat, which is what makes the per-state caches hit.
//
// Code points are matched one UTF-8 byte at a time: a stack whose top is a character class may
// hold a partially read character (value so far, bytes still needed), and stays alive only while
// some code point of the class starts with those bytes. So a token that ends inside a character is
// allowed exactly when the character can still be completed into the class, and overlong forms,
// surrogates and bytes past U+10FFFF never match.
//
// Bounded work: one step expands at most kMaxExpansions (stack, element) pairs and keeps at most
// kMaxStacks stacks, else it throws InvalidArgument (hostile or hugely ambiguous grammars).
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_set>
#include <vector>

#include "grammar/grammar.h"

namespace llcuda::grammar {

class Automaton {
public:
    static constexpr int32_t kDead = -1;
    static constexpr size_t kMaxExpansions = 1'000'000;
    static constexpr size_t kMaxStacks = 20'000;
    static constexpr size_t kMaxStates = 16'384;  // then users move to a fresh automaton (1 KiB a state)

    explicit Automaton(Grammar g);

    int32_t initial() const { return initial_; }
    // The state after `byte`, or kDead when no stack accepts it.
    int32_t step(int32_t state, uint8_t byte) {
        const int32_t t = trans_[size_t(state) * 256 + byte];
        return t != kUnknown ? t : compute(state, byte);
    }
    // The text so far is a complete sentence of the grammar.
    bool accepting(int32_t state) const { return states_[size_t(state)].front() == 0; }
    // ...and nothing may follow it.
    bool only_end(int32_t state) const { return states_[size_t(state)].size() == 1 && accepting(state); }

    size_t n_states() const { return states_.size(); }
    bool full() const { return states_.size() > kMaxStates; }
    const Grammar& grammar() const { return g_; }

private:
    static constexpr int32_t kUnknown = -2;

public:
    // A stack entry on top of stack `parent` (0: the empty stack): the element to match or continue
    // at, and for a character class a partially read UTF-8 character.
    struct Node {
        uint32_t pos;
        uint32_t parent;
        uint32_t partial;  // code point bits read so far
        uint8_t need;      // continuation bytes still needed (0: none read)
        uint8_t len;       // the character's encoded length when need > 0
        bool operator==(const Node&) const = default;
    };
    // A state written out as its stacks (each top entry first, parents' ids meaningless), so that
    // another automaton of the same grammar can take it in: how a matcher leaves a full automaton.
    using PortableState = std::vector<std::vector<Node>>;
    PortableState export_state(int32_t state) const;
    int32_t import_state(const PortableState& stacks);

    // Frames (how masks are shared between contexts, see matcher.cpp): the nearest node that is a
    // strict ancestor of every stack of `state` (0 when there is none: the state holds the empty
    // stack, its stacks share no context, or it has more than kMaxFrameStacks stacks).
    static constexpr size_t kMaxFrameStacks = 64;
    uint32_t common_context(int32_t state) const;
    // The state's stacks cut where they reach `context` (a common_context), as a portable state:
    // imported into another automaton of the grammar, they end on the empty stack there.
    PortableState export_above(int32_t state, uint32_t context) const;
    // This automaton's state for `local`'s state `ls`, a state reached from an export_above import:
    // each stack of ls re-rooted on `context`, and the empty stack (a parse left the cut frame)
    // replaced by what `context` continues with.
    int32_t reroot(const Automaton& local, int32_t ls, uint32_t context);

private:
    // Open-addressing index of ids whose keys live in nodes_ / states_ (no key copies).
    // Slots hold id + 1, 0 = empty; at most half full.
    struct IdTable {
        std::vector<uint32_t> slots = std::vector<uint32_t>(1024, 0);
        size_t used = 0;
    };
    static uint64_t hash_node(const Node& n);
    static uint64_t hash_stacks(const std::vector<uint32_t>& v);
    template <class Key, class Eq, class Hash>
    static uint32_t* find_slot(IdTable& t, const Key& key, Eq eq, Hash hash);
    static void grow(IdTable& t, const std::function<uint64_t(uint32_t)>& hash_of_id);

    uint32_t intern(const Node& n);
    int32_t intern_state(std::vector<uint32_t>& stacks);
    int32_t compute(int32_t state, uint8_t byte);
    // Adds to `out` every stack whose top is a terminal (or the empty stack) reachable by continuing
    // at element `pos` on top of stack `below`.
    void close(uint32_t below, uint32_t pos, std::vector<uint32_t>& out);
    void step_chars(const Node& n, const CharClass& c, uint8_t byte, std::vector<uint32_t>& out);

    Grammar g_;
    std::vector<Node> nodes_;  // [node id]; 0 is the empty stack
    IdTable node_ids_;
    std::vector<std::vector<uint32_t>> states_;  // [state] -> sorted node ids (0 first when accepting)
    IdTable state_ids_;
    std::vector<int32_t> trans_;  // [state * 256 + byte] -> state, kDead, or kUnknown
    int32_t initial_ = 0;
    // compute() / close() scratch
    std::vector<uint32_t> out_;
    std::vector<std::pair<uint32_t, uint32_t>> work_;
    std::vector<uint64_t> seen_;  // (stack, element) pairs expanded in this step; small, searched linearly
    std::unordered_set<uint64_t> seen_many_;  // once seen_ grows past kLinearSeen
    static constexpr size_t kLinearSeen = 64;
    size_t expansions_ = 0;
    bool mark_seen(uint64_t key);
    void reset_scratch();
};

}  // namespace llcuda::grammar
