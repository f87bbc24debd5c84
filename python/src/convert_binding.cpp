// llcuda._llcuda conversion entry points over llcuda/convert.h: a Hugging Face checkpoint directory
// to GGUF (`llcuda convert`) and a PEFT LoRA adapter merged into a base (`llcuda export`). Both run
// with the GIL released; progress goes through ProgressBridge (Ctrl-C stops between tensors).
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "llcuda/convert.h"
#include "progress_bridge.h"

namespace llcuda_py {

namespace {

nb::dict report_to_python(const llcuda::ConvertReport& r) {
    nb::list tensors;
    for (const auto& t : r.tensors) {
        nb::dict d;
        d["name"] = t.name;
        d["ne"] = t.ne;
        d["type"] = t.type;
        tensors.append(d);
    }
    nb::dict d;
    d["architecture"] = r.architecture;
    d["tensors"] = tensors;
    d["n_merged_lora"] = r.n_merged_lora;
    return d;
}

nb::dict convert(const std::filesystem::path& hf_dir, const std::filesystem::path& output, const std::string& out_type,
                 unsigned n_threads, nb::object progress) {
    ProgressBridge bridge(progress);
    llcuda::ConvertOptions o;
    o.out_type = out_type;
    o.n_threads = n_threads;
    o.progress = [&](size_t i, size_t n, const std::string& what) { bridge.report(i, n, what); };
    return report_to_python(bridge.run([&] { return llcuda::convert_hf_to_gguf(hf_dir, output, o); }));
}

nb::dict export_lora(const std::filesystem::path& base, const std::filesystem::path& adapter_dir,
                     const std::filesystem::path& output, const std::string& out_type, unsigned n_threads,
                     bool lora_only, nb::object progress) {
    ProgressBridge bridge(progress);
    llcuda::ExportOptions o;
    o.out_type = out_type;
    o.n_threads = n_threads;
    o.lora_only = lora_only;
    o.progress = [&](size_t i, size_t n, const std::string& what) { bridge.report(i, n, what); };
    return report_to_python(bridge.run([&] { return llcuda::export_lora(base, adapter_dir, output, o); }));
}

}  // namespace

void bind_convert(nb::module_& m) {
    m.def("convert_hf_to_gguf", &convert, nb::arg("hf_dir"), nb::arg("output"), nb::arg("out_type") = "auto",
          nb::arg("n_threads") = 0, nb::arg("progress") = nb::none(),
          "Convert a Hugging Face model directory (config.json, *.safetensors, tokenizer files) to GGUF, as "
          "`llcuda convert` does; written atomically. progress(index, count, what) is called before each output "
          "tensor. Returns the report: architecture, tensors (name, ne, type), n_merged_lora.");
    m.def("export_lora", &export_lora, nb::arg("base"), nb::arg("adapter_dir"), nb::arg("output"),
          nb::arg("out_type") = "auto", nb::arg("n_threads") = 0, nb::arg("lora_only") = false,
          nb::arg("progress") = nb::none(),
          "Merge a PEFT LoRA adapter into a base (HF directory or GGUF) and write GGUF, as `llcuda export` does "
          "(lora_only: a llama.cpp LoRA GGUF instead). Same progress and report as convert_hf_to_gguf.");
}

}  // namespace llcuda_py
