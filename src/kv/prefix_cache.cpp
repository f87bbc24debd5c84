#include "kv/prefix_cache.h"

#include <algorithm>

#include "llcuda/error.h"

namespace llcuda {

namespace {
uint64_t mix(uint64_t x) {  // splitmix64's finalizer
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}
}  // namespace

uint64_t PrefixIndex::chain_hash(uint64_t parent, std::span<const int32_t> tokens) {
    uint64_t h = mix(parent ^ 0x2545f4914f6cdd1dull);
    for (int32_t t : tokens) h = mix(h ^ uint32_t(t));
    return h;
}

std::optional<uint32_t> PrefixIndex::find(uint64_t hash, uint64_t parent, std::span<const int32_t> tokens) const {
    const auto it = by_hash_.find(hash);
    if (it == by_hash_.end()) return std::nullopt;
    const Entry& e = by_block_.at(it->second);
    if (e.parent != parent || !std::equal(e.tokens.begin(), e.tokens.end(), tokens.begin(), tokens.end())) {
        return std::nullopt;  // a hash collision: treat as a miss
    }
    return it->second;
}

bool PrefixIndex::insert(uint32_t block, uint64_t hash, uint64_t parent, std::span<const int32_t> tokens) {
    if (by_hash_.count(hash) || by_block_.count(block)) return false;
    by_hash_[hash] = block;
    by_block_[block] = Entry{hash, parent, std::vector<int32_t>(tokens.begin(), tokens.end()), std::nullopt};
    return true;
}

void PrefixIndex::mark_idle(uint32_t block) {
    Entry& e = by_block_.at(block);
    if (!e.idle_pos) e.idle_pos = idle_.insert(idle_.end(), block);
}

void PrefixIndex::mark_busy(uint32_t block) {
    Entry& e = by_block_.at(block);
    if (e.idle_pos) {
        idle_.erase(*e.idle_pos);
        e.idle_pos.reset();
    }
}

uint32_t PrefixIndex::evict_lru() {
    if (idle_.empty()) throw Error(ErrorKind::Internal, "prefix cache: no idle block to evict");
    const uint32_t block = idle_.front();
    idle_.pop_front();
    by_hash_.erase(by_block_.at(block).hash);
    by_block_.erase(block);
    return block;
}

}  // namespace llcuda
