#include "kv/kv_blocks.h"

#include <algorithm>

#include <fmt/format.h>

#include "llcuda/error.h"

namespace llcuda {

KvBlockTable::KvBlockTable(const KvCacheShape& shape) : shape_(shape) {
    if (shape.block_size == 0 || shape.n_blocks == 0) {
        throw Error(ErrorKind::InvalidArgument, "KV cache needs a non-zero block size and block count");
    }
    free_blocks_.reserve(shape.n_blocks);
    refs_.assign(shape.n_blocks, 0);
    for (uint32_t b = shape.n_blocks; b-- > 0;) free_blocks_.push_back(b);  // hand out low ids first
}

KvBlockTable::SeqId KvBlockTable::create_sequence() {
    for (SeqId s = 0; s < sequence_live_.size(); ++s) {
        if (!sequence_live_[s]) {
            sequence_live_[s] = true;
            page_tables_[s].clear();
            chain_[s].clear();
            return s;
        }
    }
    sequence_live_.push_back(true);
    page_tables_.emplace_back();
    chain_.emplace_back();
    return SeqId(page_tables_.size() - 1);
}

void KvBlockTable::free_sequence(SeqId seq) {
    auto& t = table(seq);
    for (auto it = t.rbegin(); it != t.rend(); ++it) release_block(*it);
    t.clear();
    chain_[seq].clear();
    sequence_live_[seq] = false;
}

uint32_t KvBlockTable::take_block() {
    uint32_t b;
    if (!free_blocks_.empty()) {
        b = free_blocks_.back();
        free_blocks_.pop_back();
    } else {
        b = index_.evict_lru();
    }
    refs_[b] = 1;
    return b;
}

void KvBlockTable::release_block(uint32_t block) {
    if (refs_[block] == 0) throw Error(ErrorKind::Internal, fmt::format("KV block {} released twice", block));
    if (--refs_[block] > 0) return;
    if (index_.contains_block(block)) index_.mark_idle(block);  // stays cached until evicted
    else free_blocks_.push_back(block);
}

uint32_t KvBlockTable::attach_prefix(SeqId seq, std::span<const int32_t> tokens, uint32_t max_positions) {
    auto& t = table(seq);
    if (!t.empty()) throw Error(ErrorKind::Internal, "attach_prefix needs an empty sequence");
    const uint32_t bs = shape_.block_size;
    const uint64_t limit = std::min<uint64_t>(tokens.size(), max_positions);
    uint64_t parent = PrefixIndex::kRootHash;
    for (uint64_t begin = 0; begin + bs <= limit; begin += bs) {
        const auto block_tokens = tokens.subspan(begin, bs);
        const uint64_t h = PrefixIndex::chain_hash(parent, block_tokens);
        const auto hit = index_.find(h, parent, block_tokens);
        if (!hit) break;
        if (refs_[*hit]++ == 0) index_.mark_busy(*hit);
        t.push_back(*hit);
        chain_[seq].push_back(h);
        parent = h;
    }
    return uint32_t(t.size()) * bs;
}

void KvBlockTable::publish(SeqId seq, std::span<const int32_t> tokens, uint32_t n_positions) {
    auto& t = table(seq);
    auto& chain = chain_[seq];
    const uint32_t bs = shape_.block_size;
    const uint64_t n_full = std::min<uint64_t>({n_positions, tokens.size()}) / bs;
    for (uint64_t i = chain.size(); i < n_full && i < t.size(); ++i) {
        const uint64_t parent = i == 0 ? PrefixIndex::kRootHash : chain[i - 1];
        const auto block_tokens = tokens.subspan(i * bs, bs);
        const uint64_t h = PrefixIndex::chain_hash(parent, block_tokens);
        index_.insert(t[i], h, parent, block_tokens);  // false: an identical block was published first
        chain.push_back(h);
    }
}

std::vector<uint32_t>& KvBlockTable::table(SeqId seq) {
    if (seq >= page_tables_.size() || !sequence_live_[seq]) {
        throw Error(ErrorKind::Internal, fmt::format("KV cache sequence {} does not exist", seq));
    }
    return page_tables_[seq];
}

const std::vector<uint32_t>& KvBlockTable::table(SeqId seq) const {
    return const_cast<KvBlockTable*>(this)->table(seq);
}

void KvBlockTable::reserve(SeqId seq, uint32_t n_positions) {
    auto& t = table(seq);
    const uint64_t needed = (uint64_t(n_positions) + shape_.block_size - 1) / shape_.block_size;
    if (needed <= t.size()) return;
    const uint64_t extra = needed - t.size();
    if (extra > n_available_blocks()) {
        throw Error(ErrorKind::OutOfMemory,
                    fmt::format("KV cache is full: {} positions need {} more blocks of {}, {} are free", n_positions,
                                extra, shape_.block_size, n_available_blocks()));
    }
    for (uint64_t i = 0; i < extra; ++i) t.push_back(take_block());
}

uint32_t KvBlockTable::capacity(SeqId seq) const { return uint32_t(table(seq).size()) * shape_.block_size; }

std::span<const uint32_t> KvBlockTable::blocks(SeqId seq) const { return table(seq); }

uint64_t KvBlockTable::slot(SeqId seq, uint32_t position) const {
    const auto& t = table(seq);
    const uint32_t logical = position / shape_.block_size;
    if (logical >= t.size()) {
        throw Error(ErrorKind::Internal, fmt::format("position {} is beyond sequence {}'s reserved blocks", position, seq));
    }
    return uint64_t(t[logical]) * shape_.block_size + position % shape_.block_size;
}

}  // namespace llcuda
