#include "grammar/automaton.h"

#include <algorithm>

#include <fmt/format.h>

#include "llcuda/error.h"

namespace llcuda::grammar {

namespace {

constexpr uint32_t kNoPos = UINT32_MAX;
constexpr uint32_t kMinOfLength[5] = {0, 0, 0x80, 0x800, 0x10000};

// Could a character of `len` bytes whose first bytes gave `value`, with `need` bytes to come, be
// one of the class?
bool completable(const CharClass& c, uint32_t value, int need, int len) {
    const uint32_t lo = std::max(value << (6 * need), kMinOfLength[len]);
    const uint32_t hi = std::min((value << (6 * need)) | ((1u << (6 * need)) - 1), 0x10FFFFu);
    return lo <= hi && c.intersects(lo, hi);
}

uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return h;
}

}  // namespace

uint64_t Automaton::hash_node(const Node& n) {
    uint64_t h = mix(n.pos, n.parent);
    h = mix(h, (uint64_t(n.partial) << 16) | (uint64_t(n.need) << 8) | n.len);
    return h * 0xFF51AFD7ED558CCDull;
}

uint64_t Automaton::hash_stacks(const std::vector<uint32_t>& v) {
    uint64_t h = v.size();
    for (uint32_t x : v) h = mix(h, x);
    return h * 0xFF51AFD7ED558CCDull;
}

template <class Key, class Eq, class Hash>
uint32_t* Automaton::find_slot(IdTable& t, const Key& key, Eq eq, Hash hash) {
    const size_t mask = t.slots.size() - 1;
    for (size_t i = size_t(hash(key) >> 20) & mask;; i = (i + 1) & mask) {
        uint32_t& slot = t.slots[i];
        if (slot == 0 || eq(slot - 1, key)) return &slot;
    }
}

void Automaton::grow(IdTable& t, const std::function<uint64_t(uint32_t)>& hash_of_id) {
    std::vector<uint32_t> old(t.slots.size() * 2, 0);
    old.swap(t.slots);
    const size_t mask = t.slots.size() - 1;
    for (uint32_t slot : old) {
        if (slot == 0) continue;
        size_t i = size_t(hash_of_id(slot - 1) >> 20) & mask;
        while (t.slots[i] != 0) i = (i + 1) & mask;
        t.slots[i] = slot;
    }
}

bool Automaton::mark_seen(uint64_t key) {
    if (seen_.size() < kLinearSeen) {
        for (uint64_t k : seen_) if (k == key) return false;
        seen_.push_back(key);
        return true;
    }
    if (seen_many_.empty()) seen_many_.insert(seen_.begin(), seen_.end());
    return seen_many_.insert(key).second;
}

void Automaton::reset_scratch() {
    work_.clear();
    seen_.clear();
    if (!seen_many_.empty()) seen_many_.clear();
    expansions_ = 0;
}

Automaton::Automaton(Grammar g) : g_(std::move(g)) {
    nodes_.push_back({kNoPos, 0, 0, 0, 0});
    std::vector<uint32_t> start;
    reset_scratch();
    for (uint32_t alt : g_.rule_alts[g_.root]) close(0, alt, start);
    initial_ = intern_state(start);
}

uint32_t Automaton::intern(const Node& n) {
    uint32_t* slot = find_slot(node_ids_, n, [&](uint32_t id, const Node& k) { return nodes_[id] == k; }, hash_node);
    if (*slot != 0) return *slot - 1;
    const uint32_t id = uint32_t(nodes_.size());
    nodes_.push_back(n);
    *slot = id + 1;
    if (++node_ids_.used * 2 > node_ids_.slots.size()) grow(node_ids_, [&](uint32_t i) { return hash_node(nodes_[i]); });
    return id;
}

int32_t Automaton::intern_state(std::vector<uint32_t>& stacks) {
    std::sort(stacks.begin(), stacks.end());
    stacks.erase(std::unique(stacks.begin(), stacks.end()), stacks.end());
    if (stacks.size() > kMaxStacks) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("grammar: more than {} parses are alive at once (the grammar is too ambiguous)", kMaxStacks));
    }
    uint32_t* slot = find_slot(state_ids_, stacks, [&](uint32_t id, const std::vector<uint32_t>& k) { return states_[id] == k; },
                               hash_stacks);
    if (*slot != 0) return int32_t(*slot - 1);
    const uint32_t id = uint32_t(states_.size());
    states_.push_back(stacks);
    trans_.resize(trans_.size() + 256, kUnknown);
    *slot = id + 1;
    if (++state_ids_.used * 2 > state_ids_.slots.size()) grow(state_ids_, [&](uint32_t i) { return hash_stacks(states_[i]); });
    return int32_t(id);
}

void Automaton::close(uint32_t below, uint32_t pos, std::vector<uint32_t>& out) {
    work_.push_back({below, pos});
    while (!work_.empty()) {
        const auto [b, p] = work_.back();
        work_.pop_back();
        if (!mark_seen((uint64_t(b) << 32) | p)) continue;
        if (++expansions_ > kMaxExpansions) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("grammar: one character needs more than {} rule expansions (nested repetitions "
                                    "of rules that can match nothing?)",
                                    kMaxExpansions));
        }
        const Elem e = g_.elems[p];
        switch (e.kind) {
            case ElemKind::End:
                if (b == 0) {
                    out.push_back(0);
                } else {
                    const Node& n = nodes_[b];
                    work_.push_back({n.parent, n.pos});
                }
                break;
            case ElemKind::Bytes:
            case ElemKind::Chars:
                out.push_back(intern({p, b, 0, 0, 0}));
                break;
            case ElemKind::Rule: {
                // Tail call: nothing after the reference, so the rule returns straight to `b`.
                const uint32_t cont = g_.elems[p + 1].kind == ElemKind::End ? b : intern({p + 1, b, 0, 0, 0});
                for (uint32_t alt : g_.rule_alts[e.arg]) work_.push_back({cont, alt});
                break;
            }
        }
    }
}

void Automaton::step_chars(const Node& n, const CharClass& c, uint8_t byte, std::vector<uint32_t>& out) {
    if (n.need == 0) {
        if (byte < 0x80) {
            if (c.contains(byte)) close(n.parent, n.pos + 1, out);
            return;
        }
        const int len = byte >= 0xF0 && byte <= 0xF4 ? 4 : byte >= 0xE0 && byte < 0xF0 ? 3 : byte >= 0xC2 && byte < 0xE0 ? 2 : 0;
        if (len == 0) return;  // a continuation byte, or a byte that never starts UTF-8
        const uint32_t value = byte & (0x7Fu >> len);
        if (completable(c, value, len - 1, len)) out.push_back(intern({n.pos, n.parent, value, uint8_t(len - 1), uint8_t(len)}));
        return;
    }
    if ((byte & 0xC0) != 0x80) return;
    const uint32_t value = (n.partial << 6) | (byte & 0x3F);
    const int need = n.need - 1;
    if (need == 0) {
        if (value >= kMinOfLength[n.len] && c.contains(value)) close(n.parent, n.pos + 1, out);
    } else if (completable(c, value, need, n.len)) {
        out.push_back(intern({n.pos, n.parent, value, uint8_t(need), n.len}));
    }
}

int32_t Automaton::compute(int32_t state, uint8_t byte) {
    std::vector<uint32_t>& out = out_;
    out.clear();
    reset_scratch();
    // states_ only grows in intern_state() below, after the loop.
    for (size_t k = 0; k < states_[size_t(state)].size(); ++k) {
        const uint32_t id = states_[size_t(state)][k];
        if (id == 0) continue;  // the empty stack matches nothing more
        const Node n = nodes_[id];
        const Elem e = g_.elems[n.pos];
        if (e.kind == ElemKind::Bytes) {
            if (g_.byte_sets[e.arg][byte]) close(n.parent, n.pos + 1, out);
        } else {
            step_chars(n, g_.classes[e.arg], byte, out);
        }
    }
    const int32_t next = out.empty() ? kDead : intern_state(out);
    trans_[size_t(state) * 256 + byte] = next;
    return next;
}

Automaton::PortableState Automaton::export_state(int32_t state) const {
    PortableState out;
    for (uint32_t id : states_[size_t(state)]) {
        std::vector<Node> chain;
        for (uint32_t at = id; at != 0; at = nodes_[at].parent) chain.push_back(nodes_[at]);
        out.push_back(std::move(chain));
    }
    return out;
}

int32_t Automaton::import_state(const PortableState& chains) {
    std::vector<uint32_t> stacks;
    for (const auto& chain : chains) {
        uint32_t parent = 0;
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
            Node n = *it;
            n.parent = parent;
            parent = intern(n);
        }
        stacks.push_back(parent);
    }
    return intern_state(stacks);
}

uint32_t Automaton::common_context(int32_t state) const {
    const std::vector<uint32_t>& stacks = states_[size_t(state)];
    if (stacks.empty() || stacks.front() == 0 || stacks.size() > kMaxFrameStacks) return 0;
    // Strict ancestors of the first stack, nearest first; the first that is also a strict ancestor
    // of every other stack is the answer (hash-consing makes equal chains equal ids).
    for (uint32_t c = nodes_[stacks[0]].parent; c != 0; c = nodes_[c].parent) {
        bool everywhere = true;
        for (size_t k = 1; k < stacks.size() && everywhere; ++k) {
            uint32_t at = nodes_[stacks[k]].parent;
            while (at != 0 && at != c) at = nodes_[at].parent;
            everywhere = at == c;
        }
        if (everywhere) return c;
    }
    return 0;
}

Automaton::PortableState Automaton::export_above(int32_t state, uint32_t context) const {
    PortableState out;
    for (uint32_t id : states_[size_t(state)]) {
        std::vector<Node> chain;
        for (uint32_t at = id; at != context; at = nodes_[at].parent) {
            if (at == 0) throw Error(ErrorKind::Internal, "grammar: a frame's context is not below every stack");
            chain.push_back(nodes_[at]);
        }
        out.push_back(std::move(chain));
    }
    return out;
}

int32_t Automaton::reroot(const Automaton& local, int32_t ls, uint32_t context) {
    std::vector<uint32_t> stacks;
    bool left_frame = false;
    for (uint32_t id : local.states_[size_t(ls)]) {
        if (id == 0) {
            left_frame = true;
            continue;
        }
        std::vector<Node> chain;  // top first
        for (uint32_t at = id; at != 0; at = local.nodes_[at].parent) chain.push_back(local.nodes_[at]);
        uint32_t parent = context;
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
            Node n = *it;
            n.parent = parent;
            parent = intern(n);
        }
        stacks.push_back(parent);
    }
    if (left_frame) {  // as close() does at the End that returns to `context`
        const Node c = nodes_[context];
        reset_scratch();
        close(c.parent, c.pos, stacks);
    }
    return intern_state(stacks);
}

}  // namespace llcuda::grammar
