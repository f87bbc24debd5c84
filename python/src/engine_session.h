// The object behind llcuda._llcuda.Engine: one llcuda::InferenceEngine plus what only the binding
// needs. Every call releases the GIL while the engine works.
//
// Locking: the engine serves calls from many threads at once, except load_model/unload, which must
// not overlap any other call (include/llcuda/engine.h). A shared_mutex says exactly that: calls
// hold it shared, load/unload exclusive. It is always taken with the GIL released, so a thread
// waiting for it never blocks one that needs the GIL to deliver a streamed piece.
#pragma once

#include <filesystem>
#include <shared_mutex>
#include <string>
#include <vector>

#include <nanobind/nanobind.h>

#include "llcuda/engine.h"
#include "request_metrics.h"

namespace llcuda_py {

namespace nb = nanobind;

class EngineSession {
public:
    // All methods are entered with the GIL held (nanobind calls them).
    void load(const std::filesystem::path& path, const llcuda::LoadOptions& options);
    void unload();
    bool is_loaded() const;
    llcuda::ModelInfo model_info() const;

    // infer / infer_stream: `on_piece` is a Python callable or None. A call from the main thread
    // stops at Ctrl-C (KeyboardInterrupt is raised once the engine returned).
    llcuda::InferenceResult generate(const std::string& prompt, const llcuda::SamplingParams& params,
                                     nb::object on_piece);
    // The model's chat template, then generation as above.
    llcuda::InferenceResult chat(const std::vector<llcuda::ChatMessage>& messages,
                                 const llcuda::SamplingParams& params, nb::object on_piece);
    // All prompts in one batch (InferenceEngine::batch_infer); no Ctrl-C check inside.
    std::vector<llcuda::InferenceResult> batch(const std::vector<std::string>& prompts,
                                               const llcuda::SamplingParams& params);

    std::string apply_chat_template(const std::vector<llcuda::ChatMessage>& messages, bool add_generation_prompt) const;
    std::vector<int32_t> tokenize(const std::string& text, bool add_special) const;
    std::string detokenize(const std::vector<int32_t>& ids) const;
    llcuda::EngineMetrics engine_metrics() const;

    MetricsSnapshot metrics() const { return metrics_.snapshot(); }
    void reset_metrics() { metrics_.reset(); }

private:
    // The text infer_stream must get so that it sees the tokens InferenceEngine::chat would: chat()
    // adds no BOS when the rendered template already starts with the BOS text, infer_stream always
    // adds one, so a leading BOS text is dropped here.
    std::string chat_prompt(const std::vector<llcuda::ChatMessage>& messages) const;  // lock held

    llcuda::InferenceEngine engine_;
    mutable std::shared_mutex lifecycle_;
    RequestMetrics metrics_;
};

}  // namespace llcuda_py
