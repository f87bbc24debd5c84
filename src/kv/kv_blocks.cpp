#include "kv/kv_blocks.h"

#include <fmt/format.h>

#include "llcuda/error.h"

namespace llcuda {

KvBlockTable::KvBlockTable(const KvCacheShape& shape) : shape_(shape) {
    if (shape.block_size == 0 || shape.n_blocks == 0) {
        throw Error(ErrorKind::InvalidArgument, "KV cache needs a non-zero block size and block count");
    }
    free_blocks_.reserve(shape.n_blocks);
    for (uint32_t b = shape.n_blocks; b-- > 0;) free_blocks_.push_back(b);  // hand out low ids first
}

KvBlockTable::SeqId KvBlockTable::create_sequence() {
    for (SeqId s = 0; s < sequence_live_.size(); ++s) {
        if (!sequence_live_[s]) {
            sequence_live_[s] = true;
            page_tables_[s].clear();
            return s;
        }
    }
    sequence_live_.push_back(true);
    page_tables_.emplace_back();
    return SeqId(page_tables_.size() - 1);
}

void KvBlockTable::free_sequence(SeqId seq) {
    auto& t = table(seq);
    free_blocks_.insert(free_blocks_.end(), t.rbegin(), t.rend());
    t.clear();
    sequence_live_[seq] = false;
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
    if (extra > free_blocks_.size()) {
        throw Error(ErrorKind::OutOfMemory,
                    fmt::format("KV cache is full: {} positions need {} more blocks of {}, {} are free", n_positions,
                                extra, shape_.block_size, free_blocks_.size()));
    }
    for (uint64_t i = 0; i < extra; ++i) {
        t.push_back(free_blocks_.back());
        free_blocks_.pop_back();
    }
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
