// What a loaded InferenceEngine holds. Shared by the engine's source files; nothing outside
// src/engine includes it.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <unordered_set>

#include "backend/compute_backend.h"
#include "grammar/token_vocabulary.h"
#include "kv/kv_blocks.h"
#include "llcuda/chat_template.h"
#include "llcuda/engine.h"
#include "llcuda/gguf.h"
#include "llcuda/tokenizer.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace llcuda {

class Scheduler;

struct InferenceEngine::State {
    explicit State(GgufFile f);  // both defined where Scheduler is complete

    GgufFile file;
    ModelConfig config;
    ModelWeights weights;
    std::optional<Tokenizer> tokenizer;
    std::optional<ChatTemplate> chat_template;
    LoadOptions options;
    uint32_t n_ctx = 0;
    uint32_t max_step_tokens = 0;    // tokens one forward pass may carry (prefill chunk + decode tokens)
    uint32_t max_logit_rows = 0;     // logits rows one forward pass may return
    std::unique_ptr<KvBlockTable> kv;
    std::unique_ptr<ComputeBackend> backend;
    std::unordered_set<int32_t> end_of_generation;
    grammar::LazyTokenVocabulary grammar_vocabulary;  // built by the first grammar-constrained request
    EngineMetrics metrics;
    double sum_latency_ms = 0, sum_tokens_per_sec = 0;
    uint64_t n_rate_samples = 0;
    uint64_t n_parameters = 0;
    uint64_t weight_bytes_per_token = 0;
    // Held by the scheduler's step loop during each step and by score()/bench()/metrics(): whoever
    // touches the backend, the KV table or the metrics holds it (the tokenizer and chat template are
    // immutable and need no lock).
    mutable std::mutex mutex;
    // Runs every generation call (engine/scheduler.h). Declared last: destroyed first, so its step
    // thread stops before anything it uses goes away.
    std::unique_ptr<Scheduler> scheduler;
    ~State();
};

}  // namespace llcuda
