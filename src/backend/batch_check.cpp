#include "backend/batch_check.h"

#include <fmt/format.h>

#include "llcuda/error.h"

namespace llcuda {

void validate_batch(const Batch& batch, const KvCacheShape& kv, uint32_t n_vocab) {
    if (batch.sequences.empty()) throw Error(ErrorKind::InvalidArgument, "the batch has no sequences");
    for (size_t i = 0; i < batch.sequences.size(); ++i) {
        const SequenceChunk& s = batch.sequences[i];
        if (s.tokens.empty()) throw Error(ErrorKind::InvalidArgument, fmt::format("batch sequence {} has no tokens", i));
        if (s.n_logits > s.tokens.size()) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("batch sequence {} asks for {} logits rows but has {} tokens", i, s.n_logits,
                                    s.tokens.size()));
        }
        for (int32_t t : s.tokens) {
            if (t < 0 || uint32_t(t) >= n_vocab) {
                throw Error(ErrorKind::InvalidArgument, fmt::format("token id {} is outside the vocabulary of {}", t, n_vocab));
            }
        }
        const uint64_t end = uint64_t(s.start) + s.tokens.size();
        if (uint64_t(s.blocks.size()) * kv.block_size < end) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("batch sequence {}: positions up to {} but its page table covers {}", i, end,
                                    uint64_t(s.blocks.size()) * kv.block_size));
        }
        for (uint32_t b : s.blocks) {
            if (b >= kv.n_blocks) {
                throw Error(ErrorKind::InvalidArgument,
                            fmt::format("batch sequence {}: block id {} is outside the pool of {}", i, b, kv.n_blocks));
            }
        }
    }
}

}  // namespace llcuda
