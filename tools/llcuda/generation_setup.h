// What `run` and `chat` do before generating: check every flag and the memory the model will need,
// load it, and say on stderr what runs (model, architecture, quantization, backend and device,
// context, threads, seed). Also the stream printer and the closing statistics line they share.
#pragma once

#include <cstdio>
#include <string>

#include "generation_flags.h"
#include "llcuda/engine.h"
#include "preflight.h"

namespace llcuda::cli {

struct LoadedModel {
    InferenceEngine engine;
    ResolvedFlags flags;
    ModelFacts facts;
    uint32_t n_ctx = 0;
};

// Resolves the flags, checks memory and context (preflight.h), prints notices and warnings, loads
// the model and prints the "what runs" line unless flags.quiet. Throws llcuda::Error before loading
// anything when a check fails.
void load_for_generation(const GenerationFlags& flags, LoadedModel& out);

// A stream callback body: writes each piece to stdout at once; false after Ctrl-C.
bool print_piece(std::string_view piece);

// "length" when -n ended it, "context_full" when the context did (the engine says "length" for both).
std::string finish_description(const InferenceResult& r, const SamplingParams& params);

// "[cpu: 12 prompt tokens in 40 ms, 32 generated at 19.3 tok/s, finish: length]"; the rate only when
// at least two tokens were generated (one token times nothing but its own sampling).
std::string stats_line(const std::string& backend, const InferenceResult& r, const SamplingParams& params);

}  // namespace llcuda::cli
