// Follows one generation through a grammar: which tokens may come next, and the state after each
// accepted token.
//
// allowed() walks the vocabulary trie from the current automaton state, pruning every subtree whose
// prefix no stack accepts, so a state's cost is the number of trie nodes still alive (all of them in
// a free-text string, few after a key). Masks are cached per automaton state, and the automaton
// with its masks is shared by every request with the same grammar and vocabulary (SharedGrammar):
// inside a string or a list, and from the second request on, the mask is mostly a lookup.
//
// States differ by their context too (which array item, which field follows), so a string's
// states in the fifth object are new even when the first four had the same ones. Frames share the
// work between contexts: the state's stacks are cut at their nearest common ancestor (the context)
// and the cut state, equal in every context, is walked once on a second automaton (`local`); that
// walk keeps the tokens decided inside the frame and the trie nodes where a parse leaves it, and
// only those nodes' subtrees are walked in the real context (Matcher::walk_framed).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "grammar/automaton.h"
#include "grammar/token_vocabulary.h"

namespace llcuda::grammar {

// One bit per logits row: bit t of word t / 64.
using Mask = std::vector<uint64_t>;

// A compiled grammar for one vocabulary with its caches. Matchers lock `mutex` around every use,
// so requests on other threads can share it. When the automaton is full, matchers move to a
// fresh one (successor), which also replaces this one in the registry.
// A frame's walk (cut state of the `local` automaton): the tokens its parses allow without leaving
// it, and the trie nodes (with the local state there) where a parse leaves it; tokens ending at such
// a node are in `inside` (what follows the frame always has a next terminal or the end).
struct FrameMask {
    Mask inside;
    std::vector<std::pair<uint32_t, int32_t>> exits;  // (trie node, local state holding the empty stack)
};

struct SharedGrammar {
    SharedGrammar(Grammar g, std::shared_ptr<const TokenVocabulary> v, std::string k)
        : automaton(std::move(g)), vocab(std::move(v)), key(std::move(k)) {}
    static constexpr size_t kMaxCachedMasks = 256;

    std::mutex mutex;
    Automaton automaton;
    std::unique_ptr<Automaton> local;  // cut states (frames): made on first use, replaced when full
    std::unordered_map<int32_t, std::shared_ptr<const Mask>> masks;  // automaton state -> allowed tokens
    std::unordered_map<int32_t, std::shared_ptr<const FrameMask>> frames;  // local state -> its walk
    std::shared_ptr<const TokenVocabulary> vocab;
    std::string key;                          // the GBNF text ("" when not in the registry)
    std::weak_ptr<SharedGrammar> successor;
};

// The shared compiled form of `gbnf` for `vocab`: from a small registry of recently used grammars
// (kept while in use, and the last few after), else parsed now. Throws what parse_gbnf throws.
std::shared_ptr<SharedGrammar> shared_grammar(const std::string& gbnf, const std::shared_ptr<const TokenVocabulary>& vocab);

class Matcher {
public:
    Matcher(std::shared_ptr<const TokenVocabulary> vocab, std::shared_ptr<SharedGrammar> grammar);
    // A private (unshared) compiled grammar.
    Matcher(std::shared_ptr<const TokenVocabulary> vocab, Grammar grammar);

    // The tokens that may come next; end-of-generation ids exactly when the grammar is complete.
    // Valid until the next call on this matcher. Throws InvalidArgument when no token can continue
    // the text (a grammar that needs text the vocabulary cannot spell).
    const Mask& allowed();
    bool is_allowed(int32_t token);
    // Takes a generated token; InvalidArgument when the grammar does not allow it.
    void accept(int32_t token);

    bool complete();   // end-of-generation allowed
    bool only_end();   // nothing else allowed
    bool ended() const { return ended_; }  // an end id was accepted
    const TokenVocabulary& vocabulary() const { return *vocab_; }
    size_t automaton_states();

private:
    std::unique_lock<std::mutex> lock();
    // Walks the trie nodes after `node` within its subtree (all nodes when node is -1) from `state`
    // of automaton `a`, setting the allowed tokens' bits. With `exits` (a frame's walk on the local
    // automaton), a node whose state holds the empty stack is recorded there and its subtree skipped.
    void walk(Mask& mask, Automaton& a, int32_t state, int64_t node,
              std::vector<std::pair<uint32_t, int32_t>>* exits = nullptr);
    void walk_framed(Mask& mask, uint32_t context);
    std::shared_ptr<const FrameMask> frame_mask(int32_t local_state);
    void walk_stripped(Mask& mask);
    int32_t run(int32_t state, const std::string& bytes, size_t from);

    std::shared_ptr<const TokenVocabulary> vocab_;
    std::shared_ptr<SharedGrammar> g_;
    int32_t state_;
    size_t strip_left_;  // leading spaces the decoder will still drop (SentencePiece Strip)
    bool ended_ = false;
    std::shared_ptr<const Mask> current_;  // what allowed() returned
    std::vector<int32_t> depth_state_;     // walk(): state after the path to depth d
};

}  // namespace llcuda::grammar
