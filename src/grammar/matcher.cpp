#include "grammar/matcher.h"

#include <cstdlib>
#include <list>

#include <fmt/format.h>

#include "llcuda/error.h"

namespace llcuda::grammar {

namespace {

// Recently used grammars, most recent first. Entries in use elsewhere stay alive through their
// users; the registry itself keeps the last kKeep.
struct Registry {
    static constexpr size_t kKeep = 4;
    std::mutex mutex;
    std::list<std::shared_ptr<SharedGrammar>> entries;
};

Registry& registry() {
    static Registry r;
    return r;
}

// LLCUDA_GRAMMAR_FRAMES=0 (read once) walks every new state whole, for A/B runs.
bool frames_enabled() {
    static const bool on = [] {
        const char* v = std::getenv("LLCUDA_GRAMMAR_FRAMES");
        return !(v && std::string(v) == "0");
    }();
    return on;
}

}  // namespace

std::shared_ptr<SharedGrammar> shared_grammar(const std::string& gbnf, const std::shared_ptr<const TokenVocabulary>& vocab) {
    Registry& r = registry();
    {
        std::lock_guard lock(r.mutex);
        for (auto it = r.entries.begin(); it != r.entries.end(); ++it) {
            if ((*it)->key == gbnf && (*it)->vocab == vocab) {
                auto g = *it;
                r.entries.splice(r.entries.begin(), r.entries, it);
                return g;
            }
        }
    }
    auto g = std::make_shared<SharedGrammar>(parse_gbnf(gbnf), vocab, gbnf);  // parsed outside the lock
    std::lock_guard lock(r.mutex);
    r.entries.push_front(g);
    if (r.entries.size() > Registry::kKeep) r.entries.pop_back();
    return g;
}

Matcher::Matcher(std::shared_ptr<const TokenVocabulary> vocab, std::shared_ptr<SharedGrammar> grammar)
    : vocab_(std::move(vocab)), g_(std::move(grammar)), strip_left_(vocab_->strip_leading_spaces) {
    std::lock_guard l(g_->mutex);
    state_ = g_->automaton.initial();
    depth_state_.resize(size_t(vocab_->max_depth) + 1);
}

Matcher::Matcher(std::shared_ptr<const TokenVocabulary> vocab, Grammar grammar)
    : Matcher(vocab, std::make_shared<SharedGrammar>(std::move(grammar), vocab, "")) {}

// Locks the shared grammar; first moves this matcher to a fresh automaton when its one is full
// (the first to move creates it and puts it in the registry in place of the full one).
std::unique_lock<std::mutex> Matcher::lock() {
    std::unique_lock l(g_->mutex);
    if (!g_->automaton.full()) return l;
    const Automaton::PortableState mine = g_->automaton.export_state(state_);
    std::shared_ptr<SharedGrammar> next = g_->successor.lock();
    if (!next) {
        next = std::make_shared<SharedGrammar>(g_->automaton.grammar(), g_->vocab, g_->key);
        g_->successor = next;
        if (!g_->key.empty()) {
            Registry& r = registry();
            std::lock_guard rl(r.mutex);
            for (auto& e : r.entries) {
                if (e == g_) e = next;
            }
        }
    }
    l.unlock();
    g_ = std::move(next);
    std::unique_lock nl(g_->mutex);
    state_ = g_->automaton.import_state(mine);
    return nl;
}

size_t Matcher::automaton_states() {
    auto l = lock();
    return g_->automaton.n_states();
}

bool Matcher::complete() {
    auto l = lock();
    return g_->automaton.accepting(state_);
}

bool Matcher::only_end() {
    auto l = lock();
    return g_->automaton.only_end(state_);
}

int32_t Matcher::run(int32_t s, const std::string& bytes, size_t from) {
    Automaton& a = g_->automaton;
    for (size_t i = from; i < bytes.size() && s != Automaton::kDead; ++i) s = a.step(s, uint8_t(bytes[i]));
    return s;
}

namespace {

// Matcher::walk's loop; kExits (a frame's walk) is a template parameter so that the walks in
// context, the hot ones, carry no test for it.
template <bool kExits>
void walk_trie(const TokenVocabulary& v, std::vector<int32_t>& depth_state, Automaton& a, int32_t state, int64_t node,
               Mask& mask, std::vector<std::pair<uint32_t, int32_t>>* exits) {
    uint32_t i = 0, end = uint32_t(v.node_byte.size());
    depth_state[0] = state;
    if (node >= 0) {
        i = uint32_t(node) + 1;
        end = v.node_end[size_t(node)];
        depth_state[v.node_depth[size_t(node)]] = state;
    }
    while (i < end) {
        const int32_t s = a.step(depth_state[v.node_depth[i] - 1u], v.node_byte[i]);
        if (s == Automaton::kDead) {
            i = v.node_end[i];  // no token under this prefix can match
            continue;
        }
        for (uint32_t k = v.tok_begin[i]; k < v.tok_begin[i + 1]; ++k) {
            const int32_t t = v.order[k];
            mask[size_t(t) >> 6] |= uint64_t(1) << (t & 63);
        }
        if (kExits && a.accepting(s)) {  // a parse left the frame: the subtree is the context's
            exits->push_back({i, s});
            i = v.node_end[i];
            continue;
        }
        depth_state[v.node_depth[i]] = s;
        ++i;
    }
}

}  // namespace

void Matcher::walk(Mask& mask, Automaton& a, int32_t state, int64_t node,
                   std::vector<std::pair<uint32_t, int32_t>>* exits) {
    if (exits) walk_trie<true>(*vocab_, depth_state_, a, state, node, mask, exits);
    else walk_trie<false>(*vocab_, depth_state_, a, state, node, mask, nullptr);
}

// A cut state's walk on the local automaton, cached: a node whose state holds the empty stack (a
// parse left the frame there) is an exit: its tokens are allowed, its subtree is left to the real
// context.
std::shared_ptr<const FrameMask> Matcher::frame_mask(int32_t local_state) {
    if (auto it = g_->frames.find(local_state); it != g_->frames.end()) return it->second;
    auto f = std::make_shared<FrameMask>();
    f->inside.assign((vocab_->n_rows + 63) / 64, 0);
    walk(f->inside, *g_->local, local_state, -1, &f->exits);
    if (g_->frames.size() >= SharedGrammar::kMaxCachedMasks) g_->frames.clear();
    g_->frames.emplace(local_state, f);
    return f;
}

void Matcher::walk_framed(Mask& mask, uint32_t context) {
    if (!g_->local || g_->local->full()) {  // first use, or cut states of many frames: start afresh
        g_->frames.clear();
        g_->local = std::make_unique<Automaton>(g_->automaton.grammar());
    }
    const int32_t cut = g_->local->import_state(g_->automaton.export_above(state_, context));
    const std::shared_ptr<const FrameMask> f = frame_mask(cut);
    mask = f->inside;
    // Exits after the same bytes of the frame share their local state (every `...abc"` leaves a
    // string alike): re-root each distinct one once.
    std::unordered_map<int32_t, int32_t> rerooted;  // local exit state -> real state
    for (const auto& [node, exit_state] : f->exits) {
        auto [it, fresh] = rerooted.try_emplace(exit_state, Automaton::kDead);
        if (fresh) it->second = g_->automaton.reroot(*g_->local, exit_state, context);
        walk(mask, g_->automaton, it->second, node);
    }
}

// While the decoder still strips leading spaces, a token's spaces up front are not text: try each
// token with them removed (only the first step or two of a SentencePiece generation come here).
void Matcher::walk_stripped(Mask& mask) {
    const TokenVocabulary& v = *vocab_;
    for (uint32_t t = 0; t < v.n_rows; ++t) {
        const std::string& b = v.bytes[t];
        if (b.empty()) continue;
        size_t from = 0;
        while (from < b.size() && from < strip_left_ && b[from] == ' ') ++from;
        if (run(state_, b, from) != Automaton::kDead) mask[t >> 6] |= uint64_t(1) << (t & 63);
    }
}

const Mask& Matcher::allowed() {
    auto l = lock();
    const bool cacheable = strip_left_ == 0;
    if (cacheable) {
        if (auto it = g_->masks.find(state_); it != g_->masks.end()) {
            current_ = it->second;
            return *current_;
        }
    }
    auto mask = std::make_shared<Mask>((vocab_->n_rows + 63) / 64, 0);
    if (!cacheable) {
        walk_stripped(*mask);
    } else if (const uint32_t context = g_->automaton.common_context(state_); context != 0 && frames_enabled()) {
        walk_framed(*mask, context);
    } else {
        walk(*mask, g_->automaton, state_, -1);
    }
    if (g_->automaton.accepting(state_)) {
        for (int32_t e : vocab_->end_ids) (*mask)[size_t(e) >> 6] |= uint64_t(1) << (e & 63);
    }
    bool any = false;
    for (uint64_t w : *mask) any = any || w != 0;
    if (!any) {
        throw Error(ErrorKind::InvalidArgument,
                    "grammar: no token of the vocabulary can continue the text here (the grammar needs characters "
                    "the vocabulary cannot spell, or is complete and the model has no end-of-generation token)");
    }
    current_ = mask;
    if (cacheable) {
        if (g_->masks.size() >= SharedGrammar::kMaxCachedMasks) g_->masks.clear();
        g_->masks.emplace(state_, current_);
    }
    return *current_;
}

bool Matcher::is_allowed(int32_t token) {
    if (token < 0 || uint32_t(token) >= vocab_->n_rows) return false;
    const Mask& m = allowed();
    return (m[size_t(token) >> 6] >> (token & 63)) & 1;
}

void Matcher::accept(int32_t token) {
    if (ended_) throw Error(ErrorKind::InvalidArgument, "grammar: a token after end-of-generation");
    if (token < 0 || uint32_t(token) >= vocab_->n_rows) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("grammar: token id {} is outside the vocabulary", token));
    }
    auto l = lock();
    if (vocab_->is_end(token)) {
        if (!g_->automaton.accepting(state_)) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("grammar: end-of-generation token {} before the grammar is complete", token));
        }
        ended_ = true;
        return;
    }
    const std::string& b = vocab_->bytes[size_t(token)];
    size_t from = 0, strip = strip_left_;
    while (from < b.size() && strip > 0 && b[from] == ' ') { ++from; --strip; }
    const int32_t next = b.empty() ? Automaton::kDead : run(state_, b, from);
    if (next == Automaton::kDead) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("grammar: token {} is not allowed here", token));
    }
    strip_left_ = from < b.size() ? 0 : strip;
    state_ = next;
}

}  // namespace llcuda::grammar
