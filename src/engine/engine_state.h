// What a loaded InferenceEngine holds. Shared by the engine's source files; nothing outside
// src/engine includes it.
#pragma once

#include <memory>
#include <optional>
#include <unordered_set>

#include "backend/compute_backend.h"
#include "kv/kv_blocks.h"
#include "llcuda/chat_template.h"
#include "llcuda/engine.h"
#include "llcuda/gguf.h"
#include "llcuda/tokenizer.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace llcuda {

struct InferenceEngine::State {
    explicit State(GgufFile f) : file(std::move(f)) {}

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
    EngineMetrics metrics;
    double sum_latency_ms = 0, sum_tokens_per_sec = 0;
    uint64_t n_rate_samples = 0;
    uint64_t n_parameters = 0;
    uint64_t weight_bytes_per_token = 0;
};

}  // namespace llcuda
