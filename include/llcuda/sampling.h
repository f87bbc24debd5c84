// Generation parameters: how the next token is chosen and when generation stops.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llcuda {

struct SamplingParams {
    // temperature <= 0 selects the most likely token (greedy) among those the filters keep: as in
    // llama.cpp, only typical_p < 1 can remove the most likely token.
    float temperature = 0.8f;
    int32_t top_k = 40;            // keep the k most likely tokens; <= 0 disables
    float top_p = 0.95f;           // nucleus: smallest set with cumulative probability >= top_p; 1 disables
    float min_p = 0.05f;           // drop tokens with p < min_p * p_max; 0 disables
    float typical_p = 1.0f;        // locally typical sampling; 1 disables
    float repetition_penalty = 1.0f;  // divide positive / multiply negative logits of seen tokens; 1 disables
    float presence_penalty = 0.0f;    // subtract once for every token seen
    float frequency_penalty = 0.0f;   // subtract per occurrence
    int32_t penalty_last_n = 64;   // how many recent tokens the penalties look at (prompt included); -1: all
    std::optional<uint64_t> seed;  // same seed, same text; absent: a random seed

    uint32_t max_tokens = 128;     // generated tokens at most
    std::vector<std::string> stop; // stop strings: generation ends before the first one, which is not returned
    bool ignore_eos = false;       // keep going past end-of-generation tokens
    uint32_t logprobs = 0;         // 0: none; n > 0: each token's log-probability and the n most likely

    // Constrained output: a grammar in GBNF notation, or a JSON Schema (JSON text) turned into one.
    // At most one of the two; both empty: unconstrained.
    std::string grammar;
    std::string json_schema;
};

// Throws InvalidArgument naming the first out-of-range field.
void validate(const SamplingParams& params);

}  // namespace llcuda
