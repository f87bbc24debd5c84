// Perplexity of a model on a text, and how far a (quantized) model's predictions are from a base
// model's: mean KL-divergence and top-token agreement. Computed as llama.cpp's perplexity tool does.
//
//   llcuda::InferenceEngine engine;
//   engine.load_model("model.gguf", {.context_length = 512});
//   auto r = llcuda::compute_perplexity(engine, text, {.chunk_tokens = 512});
//
// The text's tokens are cut into chunks of chunk_tokens (BOS first when the model adds one); in each
// chunk the second half of the positions is scored, each predicted from everything before it in
// the chunk, so every scored token has at least half a chunk of context.
//
// Log-probability file (save_logprobs / kl_base), little-endian:
//   magic "LLCLPRB1" (8 bytes), n_vocab u32, n_rows u32, then n_rows x n_vocab f16 log-probabilities,
//   one row per scored position in scoring order.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string_view>

#include "llcuda/engine.h"

namespace llcuda {

struct PerplexityOptions {
    uint32_t chunk_tokens = 512;  // tokens per chunk, BOS included; at least 4, at most the engine's context
    uint32_t max_chunks = 0;      // score at most this many chunks; 0: every whole chunk of the text
    std::filesystem::path save_logprobs;  // write the scored rows here (written atomically), when set
    std::filesystem::path kl_base;        // compare with rows saved from a base model, when set
    // Called after each chunk with the running perplexity (progress reports).
    std::function<void(uint32_t chunk, uint32_t n_chunks, double perplexity_so_far)> on_chunk;
};

struct KlDivergence {
    double mean = 0;               // mean over scored positions of KL(base || model), in nats
    double same_top_fraction = 0;  // share of positions where both put the most probability on the same token
};

struct PerplexityResult {
    double perplexity = 0;         // exp(mean negative log-likelihood of the scored tokens)
    uint64_t n_scored = 0;         // tokens scored
    uint32_t n_chunks = 0;
    uint32_t chunk_tokens = 0;
    std::optional<KlDivergence> kl;  // when options.kl_base was given
};

// Throws InvalidArgument when the text is shorter than one chunk, the chunk does not fit the
// engine's context, or the base file has another vocabulary or fewer rows than this run scores;
// NotFound / FormatError for an unreadable or malformed base file.
PerplexityResult compute_perplexity(InferenceEngine& engine, std::string_view text, const PerplexityOptions& options = {});

}  // namespace llcuda
