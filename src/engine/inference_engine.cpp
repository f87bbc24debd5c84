// InferenceEngine: loading (model, tokenizer, chat template, KV pool, backend) and the public calls,
// which hand their token work to the generation loop (engine/generation.h).
#include <chrono>
#include <mutex>
#include <random>

#include <fmt/format.h>

#include "engine/backend_factory.h"
#include "engine/builtin_templates.h"
#include "engine/end_of_generation.h"
#include "engine/engine_state.h"
#include "engine/generation.h"
#include "engine/scheduler.h"
#include "kv/kv_pool_size.h"
#include "llcuda/chat_template.h"
#include "llcuda/engine.h"
#include "llcuda/error.h"
#include "llcuda/tokenizer.h"
#include "model/model_config.h"
#include "model/weights.h"

namespace llcuda {

namespace {


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

InferenceEngine::State::State(GgufFile f) : file(std::move(f)) {}
InferenceEngine::State::~State() = default;

InferenceEngine::InferenceEngine() = default;
InferenceEngine::~InferenceEngine() = default;
InferenceEngine::InferenceEngine(InferenceEngine&&) noexcept = default;
InferenceEngine& InferenceEngine::operator=(InferenceEngine&&) noexcept = default;

void InferenceEngine::load_model(const std::filesystem::path& path, const LoadOptions& options) {
    if (options.kv_block_size == 0) throw Error(ErrorKind::InvalidArgument, "kv_block_size must be positive");
    if (!(options.kv_memory_fraction >= 0 && options.kv_memory_fraction <= 1)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("kv_memory_fraction must be between 0 and 1, not {}",
                                                            options.kv_memory_fraction));
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
    // Every sequence the engine runs at once may grow to the whole context.
    const Backend backend = resolve_backend(options.backend);
    const bool cpu = backend == Backend::Cpu;
    // Unless told, the CPU runs up to 4 sequences at once over a pool of one context (concurrent
    // callers share it, preempting each other when long), so its memory stays that of one sequence.
    const bool cpu_default_pool = cpu && s->options.max_sequences == 0;
    if (s->options.max_sequences == 0) s->options.max_sequences = cpu ? 4 : 8;
    const uint64_t blocks_per_seq = (uint64_t(s->n_ctx) + shape.block_size - 1) / shape.block_size;
    // A pool sized from free GPU memory starts at its minimum, one context, which the backend checks
    // up front; the backend then asks for the real count once the weights and buffers are allocated.
    const bool from_memory = !cpu && options.kv_blocks == 0 && options.kv_memory_fraction > 0;
    const uint64_t n_blocks = options.kv_blocks        ? options.kv_blocks
                              : from_memory      ? blocks_per_seq
                              : cpu_default_pool ? blocks_per_seq
                                                 : blocks_per_seq * s->options.max_sequences;
    if (n_blocks > UINT32_MAX) throw Error(ErrorKind::InvalidArgument, "the KV cache would need more than 2^32 blocks");
    // The scheduler preempts others until a request runs alone, so one full context must fit.
    if (n_blocks < blocks_per_seq) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("kv_blocks = {} cannot hold one context of {} tokens ({} blocks of {})", n_blocks,
                                s->n_ctx, blocks_per_seq, shape.block_size));
    }
    shape.n_blocks = uint32_t(n_blocks);

    // The prompt chunk defaults to what each backend handles best; a step carries one chunk plus
    // one decode token per other running sequence.
    if (s->options.prefill_chunk == 0) s->options.prefill_chunk = cpu ? 64 : 512;
    s->max_step_tokens = s->options.prefill_chunk + s->options.max_sequences;
    // Logits rows: one per running sequence, and whole scoring chunks of up to 64 tokens (a row of a
    // 262k vocabulary is 1 MiB, so a full prompt chunk of rows would dwarf the activations).
    s->max_logit_rows = std::max(64u, 2 * s->options.max_sequences);  // decode rows + finishing prompts
    KvPoolSizer size_kv_pool;
    uint32_t sized_blocks = 0;  // what size_kv_pool chose
    if (from_memory) {
        size_kv_pool = [&sized_blocks, fraction = options.kv_memory_fraction, block_size = shape.block_size,
                        n_ctx = s->n_ctx](const DeviceKvRoom& room) {
            return sized_blocks = kv_blocks_for_memory(room, fraction, block_size, n_ctx);
        };
    }
    s->backend = make_backend(backend, s->config, s->weights, shape, s->options, s->max_step_tokens, s->max_logit_rows,
                              size_kv_pool);
    if (from_memory) {
        if (sized_blocks == 0) throw Error(ErrorKind::Internal, "the backend did not size its KV pool");
        shape.n_blocks = sized_blocks;
    }
    s->kv = std::make_unique<KvBlockTable>(shape);  // the same block count as the backend's pool
    for (const auto& t : g.tensors) s->n_parameters += t.n_elements();
    for (const auto& t : g.tensors) {
        if (t.name != "token_embd.weight" || !s->weights.output.present() ||
            s->weights.output.data == s->weights.token_embd.data) {
            s->weight_bytes_per_token += t.n_bytes;
        }
    }
    s->scheduler = std::make_unique<Scheduler>(*s);
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
    info.backend = s.backend->name();
    info.weight_bytes_per_token = s.weight_bytes_per_token;
    info.kv_bytes_per_position = s.backend->kv_bytes_per_position();
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

// Every generation goes through the scheduler, so concurrent calls share its forward passes.
InferenceResult generate_one(InferenceEngine::State& s, std::vector<int32_t> prompt, const SamplingParams& params,
                             const PieceCallback* callback, const std::function<bool()>* still_wanted = nullptr) {
    validate(params);
    check_prompt(s, prompt);
    const auto job = s.scheduler->submit(std::move(prompt), params, callback != nullptr);
    return s.scheduler->wait(*job, callback, still_wanted);
}

InferenceResult generate_text_stream(InferenceEngine::State& s, std::vector<int32_t> prompt,
                                     const SamplingParams& params, const StreamCallback& callback) {
    const PieceCallback pieces = [&](const StreamPiece& p) { return p.text.empty() || callback(p.text); };
    return generate_one(s, std::move(prompt), params, &pieces);
}

}  // namespace

InferenceResult InferenceEngine::infer(std::string_view prompt, const SamplingParams& params) {
    State& s = require_loaded(state_);
    return generate_one(s, tokenize(prompt, true), params, nullptr);
}

InferenceResult InferenceEngine::infer_stream(std::string_view prompt, const SamplingParams& params,
                                              const StreamCallback& callback) {
    State& s = require_loaded(state_);
    return generate_text_stream(s, tokenize(prompt, true), params, callback);
}

InferenceResult InferenceEngine::infer_tokens(const std::vector<int32_t>& prompt, const SamplingParams& params) {
    return generate_one(require_loaded(state_), prompt, params, nullptr);
}

InferenceResult InferenceEngine::generate(const std::vector<int32_t>& prompt, const SamplingParams& params,
                                          const PieceCallback& callback, const std::function<bool()>& still_wanted) {
    return generate_one(require_loaded(state_), prompt, params, callback ? &callback : nullptr,
                        still_wanted ? &still_wanted : nullptr);
}

SchedulerStats InferenceEngine::scheduler_stats() const { return require_loaded(state_).scheduler->stats(); }

std::vector<InferenceResult> InferenceEngine::batch_infer(const std::vector<std::string>& prompts,
                                                          const SamplingParams& params) {
    State& s = require_loaded(state_);
    validate(params);
    // All prompts are checked before any runs; then they join the scheduler together.
    std::vector<std::vector<int32_t>> tokens;
    for (const auto& p : prompts) {
        tokens.push_back(tokenize(p, true));
        check_prompt(s, tokens.back());
    }
    std::vector<std::shared_ptr<Job>> jobs;
    for (auto& t : tokens) jobs.push_back(s.scheduler->submit(std::move(t), params, false));
    std::vector<InferenceResult> results;
    for (size_t i = 0; i < jobs.size(); ++i) {
        try {
            results.push_back(s.scheduler->wait(*jobs[i], nullptr));
        } catch (...) {
            for (size_t j = i + 1; j < jobs.size(); ++j) jobs[j]->cancel = true;  // nobody will read them
            throw;
        }
    }
    return results;
}

namespace {

ChatRenderOptions render_options(const InferenceEngine::State& s) {
    ChatRenderOptions o;
    o.add_generation_prompt = true;
    const int32_t bos = s.tokenizer->bos_id(), eos = s.tokenizer->eos_id();
    o.extra["bos_token"] = bos >= 0 ? s.tokenizer->token_text(bos) : "";
    o.extra["eos_token"] = eos >= 0 ? s.tokenizer->token_text(eos) : "";
    return o;
}

// Templates that write the BOS text themselves must not get a second BOS from the tokenizer.
std::vector<int32_t> tokenize_chat(const InferenceEngine::State& s, const std::string& prompt) {
    const int32_t bos = s.tokenizer->bos_id();
    const bool has_bos_text = bos >= 0 && prompt.rfind(s.tokenizer->token_text(bos), 0) == 0;
    EncodeOptions e;
    e.add_special = !has_bos_text;
    return s.tokenizer->encode(prompt, e);
}

}  // namespace

std::string InferenceEngine::apply_chat_template(const std::vector<ChatMessage>& messages,
                                                 bool add_generation_prompt) const {
    const State& s = require_loaded(state_);
    if (!s.chat_template) {
        throw Error(ErrorKind::NotFound, "the model has no chat template (tokenizer.chat_template is absent)");
    }
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& m : messages) list.push_back({{"role", m.role}, {"content", m.content}});
    ChatRenderOptions o = render_options(s);
    o.add_generation_prompt = add_generation_prompt;
    return s.chat_template->apply(list, o);
}

InferenceResult InferenceEngine::chat(const std::vector<ChatMessage>& messages, const SamplingParams& params) {
    State& s = require_loaded(state_);
    validate(params);
    const std::string prompt = apply_chat_template(messages, true);
    return generate_one(s, tokenize_chat(s, prompt), params, nullptr);
}

std::vector<int32_t> InferenceEngine::chat_prompt_tokens(std::string_view messages_json,
                                                         std::string_view tools_json) const {
    const State& s = require_loaded(state_);
    if (!s.chat_template) {
        throw Error(ErrorKind::NotFound, "the model has no chat template (tokenizer.chat_template is absent)");
    }
    auto parse = [](std::string_view text, const char* what) {
        auto j = nlohmann::ordered_json::parse(text, nullptr, false);
        if (j.is_discarded() || !j.is_array()) {
            throw Error(ErrorKind::InvalidArgument, fmt::format("{} must be a JSON array", what));
        }
        return j;
    };
    const nlohmann::ordered_json messages = parse(messages_json, "messages");
    ChatRenderOptions o = render_options(s);
    if (!tools_json.empty()) o.extra["tools"] = parse(tools_json, "tools");
    return tokenize_chat(s, s.chat_template->apply(messages, o));
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
    std::lock_guard lock(s.mutex);
    std::vector<float> row(s.config.n_vocab);
    run_prompt(s, tokens, true, [&](uint32_t i, const float* logits) {
        const float max = *std::max_element(logits, logits + s.config.n_vocab);
        double sum = 0;
        for (uint32_t v = 0; v < s.config.n_vocab; ++v) sum += std::exp(double(logits[v]) - max);
        const float log_z = max + float(std::log(sum));
        for (uint32_t v = 0; v < s.config.n_vocab; ++v) row[v] = logits[v] - log_z;
        on_row(i, row.data());
    });
}

EngineMetrics InferenceEngine::metrics() const {
    const State& s = require_loaded(state_);
    std::lock_guard lock(s.mutex);
    return s.metrics;
}

BenchTimes InferenceEngine::bench(uint32_t n_prompt, uint32_t n_gen, uint32_t depth, uint64_t seed) {
    State& s = require_loaded(state_);
    if (uint64_t(depth) + n_prompt + n_gen > s.n_ctx) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("bench needs {} positions but the context holds {}",
                                                            uint64_t(depth) + n_prompt + n_gen, s.n_ctx));
    }
    std::lock_guard lock(s.mutex);
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int32_t> pick(0, int32_t(s.config.n_vocab) - 1);
    std::vector<int32_t> tokens(uint64_t(depth) + n_prompt + 1);
    for (auto& t : tokens) t = pick(rng);

    const KvBlockTable::SeqId seq = s.kv->create_sequence();
    struct Free {
        KvBlockTable& kv;
        KvBlockTable::SeqId seq;
        ~Free() { kv.free_sequence(seq); }
    } free_seq{*s.kv, seq};
    s.kv->reserve(seq, depth + n_prompt + n_gen);
    auto run = [&](uint32_t begin, uint32_t n, uint32_t n_logits) {
        Batch b;
        b.sequences.push_back({std::span<const int32_t>(tokens).subspan(begin, n), begin, s.kv->blocks(seq), n_logits});
        s.backend->forward(b);
    };
    for (uint32_t p = 0; p < depth; p += s.options.prefill_chunk) {  // context, untimed
        run(p, std::min(s.options.prefill_chunk, depth - p), 0);
    }
    BenchTimes t;
    uint32_t pos = depth;
    if (n_prompt > 0) {
        s.backend->argmax();  // drains the device queue before the clock starts
        const auto t0 = std::chrono::steady_clock::now();
        for (uint32_t p = 0; p < n_prompt; p += s.options.prefill_chunk) {
            const uint32_t n = std::min(s.options.prefill_chunk, n_prompt - p);
            run(depth + p, n, p + n == n_prompt ? 1 : 0);
        }
        s.backend->argmax();  // synchronizes: the prompt's logits are on the host side
        t.prompt_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        pos += n_prompt;
    }
    if (n_gen > 0) {
        int32_t token = tokens[pos > 0 ? pos - 1 : 0];
        const auto t0 = std::chrono::steady_clock::now();
        for (uint32_t i = 0; i < n_gen; ++i) {
            Batch b;
            b.sequences.push_back({std::span<const int32_t>(&token, 1), pos + i, s.kv->blocks(seq), 1});
            s.backend->forward(b);
            token = s.backend->argmax()[0];  // what a greedy decode step does: the id crosses to the host
        }
        t.generate_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }
    return t;
}

}  // namespace llcuda
