// Validation of a Batch against a model and a KV pool, shared by every backend so that a malformed
// batch is the same clear error everywhere (and never an out-of-bounds access on a device).
#pragma once

#include <cstdint>

#include "backend/compute_backend.h"
#include "kv/kv_blocks.h"

namespace llcuda {

// Throws InvalidArgument naming the problem: an empty batch, a sequence without tokens, n_logits
// larger than its tokens, a token outside the vocabulary, or a page table that does not cover the
// positions or names a block outside the pool.
void validate_batch(const Batch& batch, const KvCacheShape& kv, uint32_t n_vocab);

}  // namespace llcuda
