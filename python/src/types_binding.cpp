// Value types of the public API, field for field (include/llcuda/sampling.h, engine.h).
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "llcuda/engine.h"
#include "llcuda/sampling.h"
#include "python_callbacks.h"
#include "request_metrics.h"

namespace llcuda_py {

namespace {

void bind_sampling(nb::module_& m) {
    using llcuda::SamplingParams;
    nb::class_<SamplingParams>(m, "SamplingParams",
                               "How the next token is chosen and when generation stops (llcuda/sampling.h).")
        .def(nb::init<>())
        .def_rw("temperature", &SamplingParams::temperature, "<= 0: greedy (most likely token).")
        .def_rw("top_k", &SamplingParams::top_k, "Keep the k most likely tokens; <= 0 disables.")
        .def_rw("top_p", &SamplingParams::top_p, "Nucleus sampling threshold; 1 disables.")
        .def_rw("min_p", &SamplingParams::min_p, "Drop tokens with p < min_p * p_max; 0 disables.")
        .def_rw("typical_p", &SamplingParams::typical_p, "Locally typical sampling; 1 disables.")
        .def_rw("repetition_penalty", &SamplingParams::repetition_penalty, "1 disables.")
        .def_rw("presence_penalty", &SamplingParams::presence_penalty, "Subtracted once per token seen.")
        .def_rw("frequency_penalty", &SamplingParams::frequency_penalty, "Subtracted per occurrence.")
        .def_rw("penalty_last_n", &SamplingParams::penalty_last_n, "Tokens the penalties look at; -1: all.")
        .def_rw("seed", &SamplingParams::seed, "Same seed, same text; None: a random seed.")
        .def_rw("max_tokens", &SamplingParams::max_tokens, "Generated tokens at most.")
        .def_rw("stop", &SamplingParams::stop, "Stop strings: generation ends before the first (not returned).")
        .def_rw("ignore_eos", &SamplingParams::ignore_eos, "Keep going past end-of-generation tokens.")
        .def_rw("logprobs", &SamplingParams::logprobs, "0: none; n: each token's log-probability and the n most likely.")
        .def_rw("grammar", &SamplingParams::grammar, "Constrain the output to a GBNF grammar ('' : none).")
        .def_rw("json_schema", &SamplingParams::json_schema, "Constrain the output to a JSON Schema (JSON text; '' : none).");
    m.def("validate", &llcuda::validate, nb::arg("params"),
          "Raise InvalidArgumentError naming the first out-of-range field of `params`.");
}

void bind_load_options(nb::module_& m) {
    nb::enum_<llcuda::Backend>(m, "Backend", "Where the model runs.")
        .value("Auto", llcuda::Backend::Auto, "CUDA when a usable GPU is present, else the CPU.")
        .value("Cpu", llcuda::Backend::Cpu, "The CPU reference engine.")
        .value("Cuda", llcuda::Backend::Cuda, "The CUDA engine; an error when no usable GPU.");
    nb::enum_<llcuda::KvCacheType>(m, "KvCacheType", "Element type of the CUDA backend's KV cache.")
        .value("F16", llcuda::KvCacheType::F16, "Half precision.")
        .value("Q8_0", llcuda::KvCacheType::Q8_0, "8-bit blocks (half the memory of F16).");
    using llcuda::LoadOptions;
    nb::class_<LoadOptions>(m, "LoadOptions", "How a model is loaded (llcuda/engine.h).")
        .def(nb::init<>())
        .def_rw("backend", &LoadOptions::backend, "Backend.Auto, Cpu or Cuda.")
        .def_rw("context_length", &LoadOptions::context_length, "0: the model's training context, capped at 4096.")
        .def_rw("n_threads", &LoadOptions::n_threads, "CPU threads; 0: all cores.")
        .def_rw("kv_block_size", &LoadOptions::kv_block_size, "Positions per KV-cache block.")
        .def_rw("prefill_chunk", &LoadOptions::prefill_chunk, "Prompt tokens per forward pass; 0: backend default.")
        .def_rw("max_sequences", &LoadOptions::max_sequences, "Sequences run at once; 0: backend default.")
        .def_rw("kv_type", &LoadOptions::kv_type, "KvCacheType of the CUDA KV cache.")
        .def_rw("cuda_graphs", &LoadOptions::cuda_graphs, "Replay decode steps from captured CUDA graphs.")
        .def_rw("f16_weight_copies", &LoadOptions::f16_weight_copies,
                "CUDA: keep an f16 copy of each quantized matrix for products of many tokens (more memory, faster prompts).");
}

void bind_results(nb::module_& m) {
    nb::class_<llcuda::ChatMessage>(m, "ChatMessage", "One message of a conversation.")
        .def(nb::init<>())
        .def("__init__",
             [](llcuda::ChatMessage* self, std::string role, std::string content) {
                 new (self) llcuda::ChatMessage{std::move(role), std::move(content)};
             },
             nb::arg("role"), nb::arg("content"))
        .def_rw("role", &llcuda::ChatMessage::role, "'system', 'user', 'assistant' or 'tool'.")
        .def_rw("content", &llcuda::ChatMessage::content, "The message text.");

    using llcuda::TokenLogprob;
    nb::class_<TokenLogprob>(m, "TokenLogprob", "A generated token's log-probability and the most likely alternatives.")
        .def_ro("token", &TokenLogprob::token, "Token id.")
        .def_prop_ro("text", [](const TokenLogprob& t) { return to_python_str(t.text); }, "Token text.")
        .def_ro("logprob", &TokenLogprob::logprob, "Log-probability under the model.")
        .def_ro("top", &TokenLogprob::top, "(token id, log-probability) of the most likely tokens.");

    using llcuda::InferenceResult;
    nb::class_<InferenceResult>(m, "InferenceResult", "What one generation produced (llcuda/engine.h).")
        .def_prop_ro("text", [](const InferenceResult& r) { return to_python_str(r.text); }, "Generated text.")
        .def_ro("n_prompt_tokens", &InferenceResult::n_prompt_tokens, "Prompt length in tokens.")
        .def_ro("n_generated_tokens", &InferenceResult::n_generated_tokens, "Generated tokens.")
        .def_ro("latency_ms", &InferenceResult::latency_ms, "Whole call, milliseconds.")
        .def_ro("prompt_ms", &InferenceResult::prompt_ms, "Prompt processing, milliseconds.")
        .def_ro("tokens_per_sec", &InferenceResult::tokens_per_sec, "Generated tokens / generation time.")
        .def_prop_ro("finish_reason", [](const InferenceResult& r) { return llcuda::finish_reason_name(r.finish_reason); },
                     "'stop', 'length', 'stop_string' or 'cancelled'.")
        .def_ro("tokens", &InferenceResult::tokens, "Generated token ids.")
        .def_ro("logprobs", &InferenceResult::logprobs, "Per generated token, when SamplingParams.logprobs > 0.");

    using llcuda::EngineMetrics;
    nb::class_<EngineMetrics>(m, "EngineMetrics", "The engine's own counters since load.")
        .def_ro("n_requests", &EngineMetrics::n_requests, "Requests served.")
        .def_ro("n_prompt_tokens", &EngineMetrics::n_prompt_tokens, "Prompt tokens processed.")
        .def_ro("n_generated_tokens", &EngineMetrics::n_generated_tokens, "Tokens generated.")
        .def_ro("mean_latency_ms", &EngineMetrics::mean_latency_ms, "Mean request latency, milliseconds.")
        .def_ro("mean_tokens_per_sec", &EngineMetrics::mean_tokens_per_sec, "Mean generation speed of requests that generated tokens.");

    nb::class_<MetricsSnapshot>(m, "MetricsSnapshot",
                                "Per-request latency percentiles and throughput since load or reset_metrics().")
        .def_ro("mean_ms", &MetricsSnapshot::mean_ms, "Mean request latency, milliseconds.")
        .def_ro("p50_ms", &MetricsSnapshot::p50_ms, "Median latency (linear interpolation, as numpy.percentile).")
        .def_ro("p95_ms", &MetricsSnapshot::p95_ms, "95th percentile latency.")
        .def_ro("p99_ms", &MetricsSnapshot::p99_ms, "99th percentile latency.")
        .def_ro("min_ms", &MetricsSnapshot::min_ms, "Fastest request.")
        .def_ro("max_ms", &MetricsSnapshot::max_ms, "Slowest request.")
        .def_ro("sample_count", &MetricsSnapshot::sample_count, "Requests measured.")
        .def_ro("total_tokens", &MetricsSnapshot::total_tokens, "Generated tokens.")
        .def_ro("total_requests", &MetricsSnapshot::total_requests, "Requests served.")
        .def_ro("tokens_per_sec", &MetricsSnapshot::tokens_per_sec, "Generated tokens per second of wall time.")
        .def_ro("requests_per_sec", &MetricsSnapshot::requests_per_sec, "Requests per second of wall time.");

    using llcuda::ModelInfo;
    nb::class_<ModelInfo>(m, "ModelInfo", "The loaded model.")
        .def_ro("architecture", &ModelInfo::architecture, "GGUF architecture (\"llama\", \"gemma3\", ...).")
        .def_ro("name", &ModelInfo::name, "general.name of the GGUF.")
        .def_ro("n_vocab", &ModelInfo::n_vocab, "Vocabulary size.")
        .def_ro("context_length", &ModelInfo::context_length, "The engine's context, in tokens.")
        .def_ro("n_parameters", &ModelInfo::n_parameters, "Parameters.")
        .def_ro("backend", &ModelInfo::backend, "'cpu' or 'cuda'.")
        .def_ro("weight_bytes_per_token", &ModelInfo::weight_bytes_per_token, "Weight bytes one decode step reads.")
        .def_ro("kv_bytes_per_position", &ModelInfo::kv_bytes_per_position, "KV-cache bytes per position, all layers.");
}

}  // namespace

void bind_types(nb::module_& m) {
    bind_sampling(m);
    bind_load_options(m);
    bind_results(m);
}

}  // namespace llcuda_py
