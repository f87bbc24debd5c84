#include "engine_session.h"

#include <mutex>

#include "python_callbacks.h"

namespace llcuda_py {

void EngineSession::load(const std::filesystem::path& path, const llcuda::LoadOptions& options) {
    nb::gil_scoped_release release;
    std::unique_lock lock(lifecycle_);
    engine_.load_model(path, options);
    metrics_.reset();
}

void EngineSession::unload() {
    nb::gil_scoped_release release;
    std::unique_lock lock(lifecycle_);
    engine_.unload();
}

bool EngineSession::is_loaded() const {
    nb::gil_scoped_release release;
    std::shared_lock lock(lifecycle_);
    return engine_.is_loaded();
}

llcuda::ModelInfo EngineSession::model_info() const {
    nb::gil_scoped_release release;
    std::shared_lock lock(lifecycle_);
    return engine_.model_info();
}

llcuda::InferenceResult EngineSession::generate(const std::string& prompt, const llcuda::SamplingParams& params,
                                                nb::object on_piece) {
    StreamBridge bridge(std::move(on_piece), called_from_main_thread());
    llcuda::InferenceResult result;
    {
        nb::gil_scoped_release release;
        std::shared_lock lock(lifecycle_);
        result = engine_.infer_stream(prompt, params, bridge.callback());
    }
    bridge.finish();
    metrics_.record(result.latency_ms, result.n_generated_tokens);
    return result;
}

std::string EngineSession::chat_prompt(const std::vector<llcuda::ChatMessage>& messages) const {
    std::string prompt = engine_.apply_chat_template(messages, true);
    const std::vector<int32_t> added = engine_.tokenize("", true);  // [BOS] when the model adds one
    if (!added.empty()) {
        const std::string bos_text = engine_.detokenize({added.front()});
        if (!bos_text.empty() && prompt.starts_with(bos_text)) prompt.erase(0, bos_text.size());
    }
    return prompt;
}

llcuda::InferenceResult EngineSession::chat(const std::vector<llcuda::ChatMessage>& messages,
                                            const llcuda::SamplingParams& params, nb::object on_piece) {
    StreamBridge bridge(std::move(on_piece), called_from_main_thread());
    llcuda::InferenceResult result;
    {
        nb::gil_scoped_release release;
        std::shared_lock lock(lifecycle_);
        result = engine_.infer_stream(chat_prompt(messages), params, bridge.callback());
    }
    bridge.finish();
    metrics_.record(result.latency_ms, result.n_generated_tokens);
    return result;
}

std::vector<llcuda::InferenceResult> EngineSession::batch(const std::vector<std::string>& prompts,
                                                          const llcuda::SamplingParams& params) {
    std::vector<llcuda::InferenceResult> results;
    {
        nb::gil_scoped_release release;
        std::shared_lock lock(lifecycle_);
        results = engine_.batch_infer(prompts, params);
    }
    for (const auto& r : results) metrics_.record(r.latency_ms, r.n_generated_tokens);
    return results;
}

std::string EngineSession::apply_chat_template(const std::vector<llcuda::ChatMessage>& messages,
                                               bool add_generation_prompt) const {
    nb::gil_scoped_release release;
    std::shared_lock lock(lifecycle_);
    return engine_.apply_chat_template(messages, add_generation_prompt);
}

std::vector<int32_t> EngineSession::tokenize(const std::string& text, bool add_special) const {
    nb::gil_scoped_release release;
    std::shared_lock lock(lifecycle_);
    return engine_.tokenize(text, add_special);
}

std::string EngineSession::detokenize(const std::vector<int32_t>& ids) const {
    nb::gil_scoped_release release;
    std::shared_lock lock(lifecycle_);
    return engine_.detokenize(ids);
}

llcuda::EngineMetrics EngineSession::engine_metrics() const {
    nb::gil_scoped_release release;
    std::shared_lock lock(lifecycle_);
    return engine_.metrics();
}

}  // namespace llcuda_py
