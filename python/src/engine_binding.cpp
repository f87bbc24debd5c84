// llcuda._llcuda.Engine: the calls of llcuda::InferenceEngine through EngineSession (GIL released,
// Ctrl-C checked, load/unload exclusive). llcuda.InferenceEngine (Python) wraps it.
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "engine_session.h"
#include "python_callbacks.h"

namespace llcuda_py {

void bind_engine(nb::module_& m) {
    nb::class_<EngineSession>(m, "Engine", "One llcuda::InferenceEngine. Safe to call from many threads.")
        .def(nb::init<>())
        .def("load", &EngineSession::load, nb::arg("path"), nb::arg("options"),
             "Load a GGUF file (replaces a loaded model); waits for running calls.")
        .def("unload", &EngineSession::unload, "Free the model; waits for running calls.")
        .def_prop_ro("is_loaded", &EngineSession::is_loaded, "Whether a model is loaded.")
        .def("model_info", &EngineSession::model_info, "The loaded model.")
        .def("generate", &EngineSession::generate, nb::arg("prompt"), nb::arg("params"), nb::arg("on_piece").none(),
             "Generate from `prompt`; `on_piece(str)` (or None) gets each piece, returning False stops.")
        .def("chat", &EngineSession::chat, nb::arg("messages"), nb::arg("params"), nb::arg("on_piece").none(),
             "Render the chat template (generation prompt added) and generate the reply.")
        .def("batch", &EngineSession::batch, nb::arg("prompts"), nb::arg("params"),
             "Generate for every prompt, all in one batch.")
        .def("apply_chat_template", &EngineSession::apply_chat_template, nb::arg("messages"),
             nb::arg("add_generation_prompt") = true, "The prompt text the chat template renders.")
        .def("tokenize", &EngineSession::tokenize, nb::arg("text"), nb::arg("add_special") = true,
             "Token ids of `text` (BOS added when the model wants one and add_special).")
        .def("detokenize",
             [](const EngineSession& e, const std::vector<int32_t>& ids) { return to_python_str(e.detokenize(ids)); },
             nb::arg("ids"), "Text of token ids.")
        .def("engine_metrics", &EngineSession::engine_metrics, "The engine's own counters.")
        .def("metrics", &EngineSession::metrics, "Latency percentiles and throughput of the requests so far.")
        .def("reset_metrics", &EngineSession::reset_metrics, "Forget the requests recorded so far.");
}

}  // namespace llcuda_py
