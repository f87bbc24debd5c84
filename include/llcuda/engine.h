// InferenceEngine: load a GGUF model and generate text (docs/engine.md).
//
//   llcuda::InferenceEngine engine;
//   engine.load_model("model.gguf", {.backend = llcuda::Backend::Cpu, .context_length = 2048});
//   auto result = engine.infer("The capital of France is", {.temperature = 0, .max_tokens = 16});
//
// Errors (missing file, unknown architecture, prompt longer than the context, bad parameter,
// out of memory) are thrown as llcuda::Error with a message naming the problem; the engine stays
// usable afterwards. Calls may come from many threads at once (load_model/unload excepted: they
// must not overlap other calls); batch_infer runs its prompts together.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "llcuda/sampling.h"

namespace llcuda {

enum class Backend { Auto, Cpu, Cuda };

// Element type of the CUDA backend's KV cache (the CPU reference always stores float32).
enum class KvCacheType { F16, Q8_0 };

struct LoadOptions {
    Backend backend = Backend::Auto;  // Auto: CUDA when a usable GPU is present, else CPU
    uint32_t context_length = 0;      // 0: the model's training context, capped at 4096
    unsigned n_threads = 0;           // CPU threads; 0: all cores
    uint32_t kv_block_size = 16;      // positions per KV-cache block
    uint32_t prefill_chunk = 0;       // prompt tokens per forward pass; 0: 64 on the CPU, 512 on CUDA
    uint32_t max_sequences = 0;       // sequences computed together (concurrent calls, batch_infer); the KV
                                      // pool holds this many full contexts. 0: 8 on CUDA; 4 on the CPU,
                                      // sharing a pool of one context
    KvCacheType kv_type = KvCacheType::F16;
    bool cuda_graphs = true;          // replay decode steps from captured CUDA graphs
    bool f16_weight_copies = false;   // CUDA: keep an f16 copy of each quantized matrix for products of
                                      // many tokens (prompts, large batches): no per-call dequantization,
                                      // ~2 bytes a weight more GPU memory (docs/cuda-kernels.md);
                                      // InvalidArgument when the model loads on the CPU
    uint32_t kv_blocks = 0;           // KV pool size in blocks; 0: as kv_memory_fraction or max_sequences
                                      // say. Must hold at least one full context (others are preempted)
    float kv_memory_fraction = 0;     // CUDA, when kv_blocks is 0: the pool takes this share (0, 1] of the
                                      // GPU memory free once the weights and buffers are allocated (at
                                      // least one context; OutOfMemory if not even that fits). 0: as
                                      // max_sequences says. Ignored on the CPU (docs/scheduler.md)
    bool prefix_cache = true;         // reuse the keys/values of full blocks of earlier prompts (docs/scheduler.md)
};

enum class FinishReason { Stop, Length, StopString, Cancelled };
const char* finish_reason_name(FinishReason reason);  // "stop", "length", "stop_string", "cancelled"

struct TokenLogprob {
    int32_t token = 0;
    std::string text;
    float logprob = 0;
    std::vector<std::pair<int32_t, float>> top;  // the n most likely tokens and their log-probabilities
};

struct InferenceResult {
    std::string text;
    uint32_t n_prompt_tokens = 0;
    uint32_t n_generated_tokens = 0;
    double latency_ms = 0;            // whole call
    double prompt_ms = 0;             // prompt processing
    double tokens_per_sec = 0;        // generated tokens / generation time
    FinishReason finish_reason = FinishReason::Length;
    std::vector<int32_t> tokens;      // generated token ids
    std::vector<TokenLogprob> logprobs;
    uint32_t n_cached_prompt_tokens = 0;  // prompt tokens whose keys/values came from the prefix cache
};

struct ChatMessage {
    std::string role;     // "system", "user", "assistant", "tool"
    std::string content;
};

struct EngineMetrics {
    uint64_t n_requests = 0;
    uint64_t n_prompt_tokens = 0;
    uint64_t n_generated_tokens = 0;
    double mean_latency_ms = 0;
    double mean_tokens_per_sec = 0;   // over requests that generated tokens
};

struct ModelInfo {
    std::string architecture;
    std::string name;
    uint32_t n_vocab = 0;
    uint32_t context_length = 0;      // the engine's context
    uint64_t n_parameters = 0;
    std::string backend;              // "cpu" or "cuda"
    uint64_t weight_bytes_per_token = 0;  // weight bytes one decode step reads (all matrices but the embedding table)
    uint64_t kv_bytes_per_position = 0;   // KV-cache bytes of one position, all layers
};

// Wall times of one `bench` call (milliseconds, device synchronized before each clock read).
struct BenchTimes {
    double prompt_ms = 0;
    double generate_ms = 0;
};

// One `bench_parallel` call: wall times (milliseconds, device synchronized before each clock read)
// and the tokens, so that a test can check the batched greedy run against each sequence run alone.
struct BenchParallelResult {
    double prompt_ms = 0;                         // all n_seq prompts
    double generate_ms = 0;                       // all n_gen decode steps
    std::vector<std::vector<int32_t>> prompts;    // n_seq x n_prompt random ids
    std::vector<std::vector<int32_t>> generated;  // n_seq x (n_gen + 1) greedy ids: the one the prompt's
                                                  // logits give, then one per decode step
};

// Receives each piece of text as it is produced (whole UTF-8 characters); return false to stop.
using StreamCallback = std::function<bool(std::string_view piece)>;

// A streamed piece with the generated tokens it completes (text may be empty when held back: a
// partial UTF-8 character or a possible stop string) and their log-probabilities when asked for.
struct StreamPiece {
    std::string_view text;
    std::span<const int32_t> tokens;
    std::span<const TokenLogprob> logprobs;
};
using PieceCallback = std::function<bool(const StreamPiece& piece)>;

// The scheduler's state now (docs/scheduler.md), for a server's metrics.
struct SchedulerStats {
    uint32_t running = 0;              // sequences being computed
    uint32_t waiting = 0;              // admitted requests not started or preempted
    uint32_t kv_blocks_total = 0;
    uint32_t kv_blocks_used = 0;       // held by requests
    uint32_t kv_blocks_cached = 0;     // held only by the prefix cache (reusable, evictable)
    uint32_t kv_blocks_free = 0;
    uint64_t prefix_cache_queries = 0; // prompt tokens looked up in the prefix cache
    uint64_t prefix_cache_hits = 0;    // of those, tokens whose keys/values were reused
    uint64_t preemptions = 0;          // sequences whose KV was dropped to be recomputed later
    uint64_t steps = 0;                // forward passes run
    // Wall time of the step loop's iterations that ran a forward pass (packing, the pass, sampling,
    // delivering the pieces), and of the pass plus sampling alone (on a GPU: until the sampled ids
    // are on the host). The difference is the scheduler's own time, during which the device waits.
    double step_seconds = 0;
    double forward_seconds = 0;
};

class InferenceEngine {
public:
    InferenceEngine();
    ~InferenceEngine();
    InferenceEngine(InferenceEngine&&) noexcept;
    InferenceEngine& operator=(InferenceEngine&&) noexcept;

    void load_model(const std::filesystem::path& path, const LoadOptions& options = {});
    bool is_loaded() const;
    void unload();
    ModelInfo model_info() const;

    InferenceResult infer(std::string_view prompt, const SamplingParams& params = {});
    InferenceResult infer_stream(std::string_view prompt, const SamplingParams& params, const StreamCallback& callback);
    // As infer, from token ids (used as given: no BOS is added).
    InferenceResult infer_tokens(const std::vector<int32_t>& prompt, const SamplingParams& params = {});
    std::vector<InferenceResult> batch_infer(const std::vector<std::string>& prompts, const SamplingParams& params = {});
    // Renders the model's chat template (add_generation_prompt = true) and generates the reply.
    InferenceResult chat(const std::vector<ChatMessage>& messages, const SamplingParams& params = {});
    std::string apply_chat_template(const std::vector<ChatMessage>& messages, bool add_generation_prompt = true) const;
    // The prompt chat() would run, from OpenAI-style messages (a JSON array, may hold tool_calls and
    // tool messages) and tools (a JSON array, or empty): rendered with add_generation_prompt and
    // tokenized without a second BOS. Throws InvalidArgument for malformed JSON.
    std::vector<int32_t> chat_prompt_tokens(std::string_view messages_json, std::string_view tools_json = {}) const;
    // From token ids (used as given), streaming pieces with their tokens and log-probabilities;
    // callback may be empty. Runs alongside every other call through the scheduler.
    // still_wanted (may be empty) is asked about every 50 ms until the call ends (queued, reading its
    // prompt, generating), in the calling thread; false cancels the call as a callback returning
    // false does (a server: the client has disconnected, perhaps before its request started).
    InferenceResult generate(const std::vector<int32_t>& prompt, const SamplingParams& params,
                             const PieceCallback& callback, const std::function<bool()>& still_wanted = {});
    SchedulerStats scheduler_stats() const;

    // Token-level access for tools (perplexity, tokenize).
    std::vector<int32_t> tokenize(std::string_view text, bool add_special = true) const;
    std::string detokenize(const std::vector<int32_t>& ids) const;
    // Log-softmax of the model's prediction after each of `tokens` (tokens.size() x n_vocab floats,
    // row i predicts tokens[i + 1]); tokens.size() must not exceed the context.
    void score(const std::vector<int32_t>& tokens, const std::function<void(uint32_t, const float*)>& on_row);

    EngineMetrics metrics() const;

    // For `llcuda bench` (llama-bench's pp/tg tests): in a fresh sequence, fills `depth` positions of
    // context (untimed), then times one forward pass over n_prompt random tokens (0: skipped), then
    // n_gen greedy decode steps (0: skipped). Random token ids come from `seed`. The context must
    // hold depth + n_prompt + n_gen tokens; load with prefill_chunk >= n_prompt for a one-pass prompt.
    BenchTimes bench(uint32_t n_prompt, uint32_t n_gen, uint32_t depth, uint64_t seed);
    // For `llcuda bench --parallel` (llama-batched-bench): n_seq fresh sequences each get n_prompt
    // random tokens, packed into forward passes as the scheduler packs prompt chunks (timed together),
    // then n_gen greedy decode steps in which every sequence advances one token in ONE batched forward
    // pass per step. n_seq must not exceed the load's max_sequences; the KV pool must hold n_seq x
    // (n_prompt + n_gen) positions (OutOfMemory naming the blocks otherwise). n_prompt >= 1.
    BenchParallelResult bench_parallel(uint32_t n_seq, uint32_t n_prompt, uint32_t n_gen, uint64_t seed);

    struct State;  // implementation detail (src/engine/inference_engine.cpp)

private:
    std::unique_ptr<State> state_;
};

}  // namespace llcuda
