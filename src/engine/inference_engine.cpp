// InferenceEngine on the CPU backend: tokenization, chunked prefill into the paged KV cache,
// sampling, streaming with stop strings, and request metrics.
#include <chrono>
#include <optional>
#include <unordered_set>

#include <fmt/format.h>

#include "backend/cpu/cpu_model.h"
#include "engine/builtin_templates.h"
#include "engine/end_of_generation.h"
#include "engine/sampler.h"
#include "engine/stop_matcher.h"
#include "llcuda/chat_template.h"
#include "llcuda/engine.h"
#include "llcuda/error.h"
#include "llcuda/tokenizer.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace llcuda {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

constexpr uint32_t kDefaultMaxContext = 4096;

}  // namespace

const char* finish_reason_name(FinishReason reason) {
    switch (reason) {
        case FinishReason::Stop: return "stop";
        case FinishReason::Length: return "length";
        case FinishReason::StopString: return "stop_string";
        case FinishReason::Cancelled: return "cancelled";
    }
    return "unknown";
}

struct InferenceEngine::State {
    explicit State(GgufFile f) : file(std::move(f)) {}

    GgufFile file;
    ModelConfig config;
    ModelWeights weights;
    std::optional<Tokenizer> tokenizer;
    std::optional<ChatTemplate> chat_template;
    std::unique_ptr<ThreadPool> pool;
    std::unique_ptr<cpu::CpuModel> model;
    std::unique_ptr<PagedKvCache> kv;
    LoadOptions options;
    uint32_t n_ctx = 0;
    std::unordered_set<int32_t> end_of_generation;
    EngineMetrics metrics;
    double sum_latency_ms = 0, sum_tokens_per_sec = 0;
    uint64_t n_rate_samples = 0;
    uint64_t n_parameters = 0;
};

InferenceEngine::InferenceEngine() = default;
InferenceEngine::~InferenceEngine() = default;
InferenceEngine::InferenceEngine(InferenceEngine&&) noexcept = default;
InferenceEngine& InferenceEngine::operator=(InferenceEngine&&) noexcept = default;

void InferenceEngine::load_model(const std::filesystem::path& path, const LoadOptions& options) {
    if (options.backend == Backend::Cuda) {
        throw Error(ErrorKind::Unsupported, "the CUDA engine is not built yet; use the CPU backend");
    }
    if (options.kv_block_size == 0 || options.prefill_chunk == 0) {
        throw Error(ErrorKind::InvalidArgument, "kv_block_size and prefill_chunk must be positive");
    }
    auto s = std::make_unique<State>(GgufFile::open(path));
    const GgufContents& g = s->file.contents();
    s->options = options;
    s->config = read_model_config(g);
    s->weights = bind_weights(s->file, s->config);
    s->tokenizer.emplace(Tokenizer::from_gguf(g));
    if (s->tokenizer->n_vocab() > s->config.n_vocab) {
        throw Error(ErrorKind::FormatError, fmt::format("the tokenizer has {} tokens but token_embd only {} rows",
                                                        s->tokenizer->n_vocab(), s->config.n_vocab));
    }
    if (g.has("tokenizer.chat_template")) {
        s->chat_template.emplace(ChatTemplate::parse(g.get_string("tokenizer.chat_template")));
    } else if (const auto builtin = builtin_chat_template(s->config.architecture)) {
        s->chat_template.emplace(ChatTemplate::parse(*builtin));  // the file has none: the family's format
    }

    const uint32_t model_ctx = s->config.n_ctx_train;
    s->n_ctx = options.context_length ? options.context_length : std::min(model_ctx, kDefaultMaxContext);
    if (s->n_ctx < 2) throw Error(ErrorKind::InvalidArgument, "the context must hold at least 2 tokens");

    for (int32_t id : end_of_generation_ids(&g, *s->tokenizer)) s->end_of_generation.insert(id);

    KvCacheShape shape;
    shape.n_layer = s->config.n_layer;
    shape.n_head_kv = s->config.n_head_kv;
    shape.head_dim_k = s->config.head_dim_k;
    shape.head_dim_v = s->config.head_dim_v;
    shape.block_size = options.kv_block_size;
    shape.n_blocks = (s->n_ctx + shape.block_size - 1) / shape.block_size;
    s->kv = std::make_unique<PagedKvCache>(shape);
    s->pool = std::make_unique<ThreadPool>(options.n_threads);
    s->model = std::make_unique<cpu::CpuModel>(s->config, s->weights, *s->pool);
    for (const auto& t : g.tensors) s->n_parameters += t.n_elements();
    state_ = std::move(s);
}

bool InferenceEngine::is_loaded() const { return state_ != nullptr; }
void InferenceEngine::unload() { state_.reset(); }

namespace {
InferenceEngine::State& require_loaded(const std::unique_ptr<InferenceEngine::State>& s) {
    if (!s) throw Error(ErrorKind::InvalidArgument, "no model is loaded (call load_model first)");
    return *s;
}
}  // namespace

ModelInfo InferenceEngine::model_info() const {
    const State& s = require_loaded(state_);
    ModelInfo info;
    info.architecture = s.config.architecture;
    info.name = s.file.contents().get_string_or("general.name", "");
    info.n_vocab = s.config.n_vocab;
    info.context_length = s.n_ctx;
    info.n_parameters = s.n_parameters;
    info.backend = "cpu";
    return info;
}

std::vector<int32_t> InferenceEngine::tokenize(std::string_view text, bool add_special) const {
    const State& s = require_loaded(state_);
    EncodeOptions o;
    o.add_special = add_special;
    return s.tokenizer->encode(text, o);
}

std::string InferenceEngine::detokenize(const std::vector<int32_t>& ids) const {
    return require_loaded(state_).tokenizer->decode(ids);
}

namespace {

// One request's KV-cache sequence, returned to the pool when the request ends (also on errors).
class SequenceGuard {
public:
    explicit SequenceGuard(PagedKvCache& kv) : kv_(kv), seq_(kv.create_sequence()) {}
    ~SequenceGuard() { kv_.free_sequence(seq_); }
    PagedKvCache::SeqId id() const { return seq_; }

private:
    PagedKvCache& kv_;
    PagedKvCache::SeqId seq_;
};

// Runs `tokens` into sequence `seq` in chunks of prefill_chunk; calls on_logits(i, row) for every
// position i when all_logits, else once for the last one.
void prefill(InferenceEngine::State& s, const std::vector<int32_t>& tokens, PagedKvCache::SeqId seq, bool all_logits,
             const std::function<void(uint32_t, const float*)>& on_logits) {
    s.kv->reserve(seq, uint32_t(tokens.size()));
    std::vector<float> logits;
    const uint32_t chunk = s.options.prefill_chunk;
    for (uint32_t begin = 0; begin < tokens.size(); begin += chunk) {
        const uint32_t n = std::min<uint32_t>(chunk, uint32_t(tokens.size()) - begin);
        const bool last_chunk = begin + n == tokens.size();
        s.model->forward(std::span<const int32_t>(tokens).subspan(begin, n), begin, *s.kv, seq, all_logits, logits);
        if (all_logits) {
            for (uint32_t i = 0; i < n; ++i) on_logits(begin + i, &logits[uint64_t(i) * s.config.n_vocab]);
        } else if (last_chunk) {
            on_logits(uint32_t(tokens.size()) - 1, logits.data());
        }
    }
}

void check_in_vocabulary(const InferenceEngine::State& s, const std::vector<int32_t>& tokens) {
    for (int32_t t : tokens) {
        if (t < 0 || uint32_t(t) >= s.config.n_vocab) {
            throw Error(ErrorKind::InvalidArgument, fmt::format("token id {} is outside the vocabulary", t));
        }
    }
}

// A prompt must leave room for at least one generated token.
void check_prompt(const InferenceEngine::State& s, const std::vector<int32_t>& tokens) {
    if (tokens.empty()) throw Error(ErrorKind::InvalidArgument, "the prompt is empty (it has no tokens)");
    if (tokens.size() >= s.n_ctx) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("the prompt has {} tokens but the context holds {} (leave room to generate)",
                                tokens.size(), s.n_ctx));
    }
    check_in_vocabulary(s, tokens);
}

InferenceResult generate(InferenceEngine::State& s, const std::vector<int32_t>& prompt, const SamplingParams& params,
                         const StreamCallback* callback) {
    const auto t_start = Clock::now();
    check_prompt(s, prompt);
    Sampler sampler(params, s.config.n_vocab);
    for (int32_t t : prompt) sampler.accept(t);

    InferenceResult result;
    result.n_prompt_tokens = uint32_t(prompt.size());
    SequenceGuard seq(*s.kv);
    std::vector<float> last_logits(s.config.n_vocab);
    prefill(s, prompt, seq.id(), false, [&](uint32_t, const float* row) {
        std::copy(row, row + s.config.n_vocab, last_logits.begin());
    });
    result.prompt_ms = ms_since(t_start);

    const auto t_gen = Clock::now();
    StreamDecoder decoder(*s.tokenizer);
    StopMatcher stops(params.stop);
    auto emit = [&](const std::string& piece) {
        if (piece.empty()) return true;
        result.text += piece;
        return callback ? (*callback)(piece) : true;
    };
    uint32_t position = uint32_t(prompt.size());
    result.finish_reason = FinishReason::Length;
    std::vector<float> logits;
    while (result.n_generated_tokens < params.max_tokens) {
        TokenLogprob lp;
        const int32_t token = sampler.sample(last_logits, params.logprobs ? &lp : nullptr);
        if (!params.ignore_eos && s.end_of_generation.count(token)) {
            result.finish_reason = FinishReason::Stop;
            break;
        }
        sampler.accept(token);
        result.tokens.push_back(token);
        ++result.n_generated_tokens;
        if (params.logprobs) {
            lp.text = s.tokenizer->decode(std::vector<int32_t>{token});
            result.logprobs.push_back(std::move(lp));
        }
        if (!emit(stops.push(decoder.push(token)))) {
            result.finish_reason = FinishReason::Cancelled;
            break;
        }
        if (stops.stopped()) {
            result.finish_reason = FinishReason::StopString;
            break;
        }
        if (result.n_generated_tokens >= params.max_tokens) break;
        if (position + 1 >= s.n_ctx) break;  // context full: finish as "length"
        s.kv->reserve(seq.id(), position + 1);
        const int32_t next[] = {token};
        s.model->forward(next, position, *s.kv, seq.id(), false, logits);
        last_logits.swap(logits);
        ++position;
    }
    if (result.finish_reason != FinishReason::Cancelled && !stops.stopped()) {
        emit(stops.push(decoder.finish()));
        if (!stops.stopped()) emit(stops.finish());
        else result.finish_reason = FinishReason::StopString;
    }
    const double gen_ms = ms_since(t_gen);
    result.latency_ms = ms_since(t_start);
    result.tokens_per_sec = gen_ms > 0 ? result.n_generated_tokens / (gen_ms / 1000.0) : 0;

    s.metrics.n_requests += 1;
    s.metrics.n_prompt_tokens += result.n_prompt_tokens;
    s.metrics.n_generated_tokens += result.n_generated_tokens;
    s.sum_latency_ms += result.latency_ms;
    s.metrics.mean_latency_ms = s.sum_latency_ms / double(s.metrics.n_requests);
    if (result.n_generated_tokens > 0) {
        s.sum_tokens_per_sec += result.tokens_per_sec;
        s.metrics.mean_tokens_per_sec = s.sum_tokens_per_sec / double(++s.n_rate_samples);
    }
    return result;
}

}  // namespace

InferenceResult InferenceEngine::infer(std::string_view prompt, const SamplingParams& params) {
    State& s = require_loaded(state_);
    validate(params);
    return generate(s, tokenize(prompt, true), params, nullptr);
}

InferenceResult InferenceEngine::infer_stream(std::string_view prompt, const SamplingParams& params,
                                              const StreamCallback& callback) {
    State& s = require_loaded(state_);
    validate(params);
    return generate(s, tokenize(prompt, true), params, &callback);
}

InferenceResult InferenceEngine::infer_tokens(const std::vector<int32_t>& prompt, const SamplingParams& params) {
    State& s = require_loaded(state_);
    validate(params);
    return generate(s, prompt, params, nullptr);
}

std::vector<InferenceResult> InferenceEngine::batch_infer(const std::vector<std::string>& prompts,
                                                          const SamplingParams& params) {
    // The CPU reference runs the prompts one after another; continuous batching is the CUDA engine's.
    std::vector<InferenceResult> results;
    for (const auto& p : prompts) results.push_back(infer(p, params));
    return results;
}

std::string InferenceEngine::apply_chat_template(const std::vector<ChatMessage>& messages,
                                                 bool add_generation_prompt) const {
    const State& s = require_loaded(state_);
    if (!s.chat_template) {
        throw Error(ErrorKind::NotFound, "the model has no chat template (tokenizer.chat_template is absent)");
    }
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& m : messages) list.push_back({{"role", m.role}, {"content", m.content}});
    ChatRenderOptions o;
    o.add_generation_prompt = add_generation_prompt;
    const int32_t bos = s.tokenizer->bos_id(), eos = s.tokenizer->eos_id();
    o.extra["bos_token"] = bos >= 0 ? s.tokenizer->token_text(bos) : "";
    o.extra["eos_token"] = eos >= 0 ? s.tokenizer->token_text(eos) : "";
    return s.chat_template->apply(list, o);
}

InferenceResult InferenceEngine::chat(const std::vector<ChatMessage>& messages, const SamplingParams& params) {
    State& s = require_loaded(state_);
    validate(params);
    const std::string prompt = apply_chat_template(messages, true);
    // Templates that write the BOS text themselves must not get a second BOS from the tokenizer.
    const int32_t bos = s.tokenizer->bos_id();
    const bool has_bos_text = bos >= 0 && prompt.rfind(s.tokenizer->token_text(bos), 0) == 0;
    return generate(s, tokenize(prompt, !has_bos_text), params, nullptr);
}

void InferenceEngine::score(const std::vector<int32_t>& tokens,
                            const std::function<void(uint32_t, const float*)>& on_row) {
    State& s = require_loaded(state_);
    if (tokens.size() > s.n_ctx) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("{} tokens do not fit in the context of {}", tokens.size(), s.n_ctx));
    }
    if (tokens.empty()) throw Error(ErrorKind::InvalidArgument, "nothing to score: no tokens");
    check_in_vocabulary(s, tokens);
    SequenceGuard seq(*s.kv);
    std::vector<float> row(s.config.n_vocab);
    prefill(s, tokens, seq.id(), true, [&](uint32_t i, const float* logits) {
        const float max = *std::max_element(logits, logits + s.config.n_vocab);
        double sum = 0;
        for (uint32_t v = 0; v < s.config.n_vocab; ++v) sum += std::exp(double(logits[v]) - max);
        const float log_z = max + float(std::log(sum));
        for (uint32_t v = 0; v < s.config.n_vocab; ++v) row[v] = logits[v] - log_z;
        on_row(i, row.data());
    });
}

EngineMetrics InferenceEngine::metrics() const { return require_loaded(state_).metrics; }

}  // namespace llcuda
