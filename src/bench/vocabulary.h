// The tokenizer of a bench model: a byte-level BPE vocabulary of the shape's size, laid out like
// Llama 3's (byte alphabet, merged pieces, control tokens at the end), so that both llcuda and
// llama.cpp load it. The pieces are synthetic; only the vocabulary size matters for speed.
#pragma once

#include "llcuda/bench_model.h"
#include "llcuda/tokenizer.h"

namespace llcuda::bench {

// Deterministic (no seed): every bench file of a shape has the same vocabulary.
Vocabulary bench_vocabulary(const BenchShape& shape);

}  // namespace llcuda::bench
