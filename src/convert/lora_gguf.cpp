// `llcuda export --lora-only`: a llama.cpp LoRA GGUF (docs/checkpoint-formats.md §llama.cpp LoRA GGUF).
#include <cmath>

#include <fmt/format.h>

#include "convert/encode.h"
#include "convert/export_paths.h"
#include "convert/permute.h"
#include "llcuda/error.h"
#include "llcuda/gguf.h"

namespace llcuda::convert {

ConvertReport export_lora_gguf(const HfModel& base, const LoraAdapter& adapter, const std::filesystem::path& output,
                               const ExportOptions& options) {
    // llama.cpp scales by alpha / rank (rank = lora_b ne[0]) with one global alpha. Store
    // alpha_g = r_0 * scale_0 of the first module and fold every module's own scale into B:
    // B' = B * scale_m * r_m / alpha_g, so runtime alpha_g / r_m * B'A = scale_m * BA (covers
    // rsLoRA and rank/alpha patterns).
    const LoraModule& first = adapter.modules().begin()->second;
    const float alpha_g = first.scale * float(first.r);
    GgufWriter w;
    w.set("general.architecture", GgufValue::string(base.arch.gguf_arch));
    w.set("general.type", GgufValue::string("adapter"));
    w.set("adapter.type", GgufValue::string("lora"));
    w.set("adapter.lora.alpha", GgufValue::f32(alpha_g));
    const GgmlType type = options.out_type == "F16" ? GgmlType::F16 : options.out_type == "BF16" ? GgmlType::BF16 : GgmlType::F32;
    ConvertReport report;
    report.architecture = base.arch.gguf_arch;
    for (const auto& t : base.tensors) {
        const auto it = adapter.modules().find(t.hf_name);
        if (it == adapter.modules().end()) continue;
        const LoraModule* m = &it->second;
        if (m->embedding || adapter.fan_in_fan_out())
            throw Error(ErrorKind::Unsupported, fmt::format("--lora-only: module '{}' (embedding / fan_in_fan_out)", m->module));
        const uint64_t r = m->a->shape[0], in = m->a->shape[1], out = m->b->shape[0];
        if (out != t.shape[0] || in != (t.shape.size() > 1 ? t.shape[1] : 1))
            throw Error(ErrorKind::FormatError, fmt::format("LoRA module '{}' does not match base weight shape", m->module));
        const uint32_t heads = permute_heads(base, t.gguf_name);
        const std::vector<uint64_t> ne_a{in, r}, ne_b{r, out};
        report.tensors.push_back({t.gguf_name + ".lora_a", ne_a, ggml_type_name(type)});
        report.tensors.push_back({t.gguf_name + ".lora_b", ne_b, ggml_type_name(type)});
        w.add_tensor(t.gguf_name + ".lora_a", type, ne_a, GgufWriter::DataSource([m, type, in](auto sink) {
            const auto a = read_f32(*m->a);  // [r, in]
            const auto bytes = encode_tensor(type, a, in, 1);
            sink(bytes.data(), bytes.size());
        }), 2);
        const float fold = m->scale * float(m->r) / alpha_g;
        w.add_tensor(t.gguf_name + ".lora_b", type, ne_b, GgufWriter::DataSource([m, type, r, out, heads, fold](auto sink) {
            auto b = read_f32(*m->b);  // [out, r]
            for (float& x : b) x *= fold;
            if (heads) permute_qk_rows(b, out, r, heads);
            const auto bytes = encode_tensor(type, b, r, 1);
            sink(bytes.data(), bytes.size());
        }), 2);
        ++report.n_merged_lora;
    }
    w.write(output);
    return report;
}

}  // namespace llcuda::convert
