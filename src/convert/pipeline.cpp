#include "convert/pipeline.h"

#include <cstdio>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "convert/encode.h"
#include "core/fp16.h"
#include "convert/metadata.h"
#include "convert/out_type.h"
#include "convert/rope_freqs.h"
#include "llcuda/error.h"
#include "llcuda/gguf.h"

namespace llcuda::convert {

void print_progress(size_t index, size_t count, const std::string& name) {
    fmt::print(stderr, "[{:4}/{:4}] {}\n", index + 1, count, name);
}

ConvertReport run_conversion(const HfModel& m, const std::filesystem::path& output, const ConvertOptions& options,
                             const DeltaHook& hook) {
    // "auto": the first source tensor with >= 2 dims decides (bf16 -> BF16, else F16).
    bool first_bf16 = false;
    for (const auto& t : m.tensors) {
        if (t.shape.size() >= 2) { first_bf16 = t.dtype == StDtype::BF16; break; }
    }
    const OutType out = parse_out_type(options.out_type, first_bf16);

    GgufWriter w;
    write_general(w, m.arch, m.dir);
    write_hparams(w, m.arch, m.config, out.file_type);
    const bool truncate = m.arch.gguf_arch == "gemma3";
    const uint32_t n_tokens = write_tokenizer(w, m.dir, m.shape.n_vocab, truncate);

    // Final shapes (vocabulary truncation for gemma3) and ggml ne.
    std::vector<SourceTensor> tensors = m.tensors;
    std::vector<PlannedTensor> planned;
    for (auto& t : tensors) {
        if (truncate && (t.gguf_name == "token_embd.weight" || t.gguf_name == "output.weight") && t.shape[0] > n_tokens)
            t.shape[0] = n_tokens;
        PlannedTensor p{t.gguf_name, {}};
        for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) p.ne.push_back(*it);
        planned.push_back(std::move(p));
    }
    quant::ModelFacts facts;
    facts.arch = m.arch.gguf_arch;
    facts.n_layer = m.shape.n_layer;
    facts.n_head = m.shape.n_head;
    facts.n_head_kv = m.shape.n_head_kv;
    const auto types = plan_types(planned, out, facts);

    ConvertReport report;
    report.architecture = m.arch.gguf_arch;
    // Generated tensors come first, as in convert_hf_to_gguf.py.
    if (m.arch.gguf_arch == "llama") {
        if (auto factors = llama3_rope_factors(m.config, m.shape.head_dim)) {
            const std::vector<uint64_t> ne{factors->size()};
            report.tensors.push_back({"rope_freqs.weight", ne, "f32"});
            auto data = std::make_shared<std::vector<float>>(std::move(*factors));  // [head_dim/2]
            w.add_tensor("rope_freqs.weight", GgmlType::F32, ne, GgufWriter::DataSource([data](auto sink) {
                sink(data->data(), data->size() * sizeof(float));
            }), 1);
        }
    }
    const size_t count = tensors.size();
    for (size_t i = 0; i < count; ++i) {
        const GgmlType type = types[i];
        const SourceTensor src = tensors[i];
        const uint64_t ne0 = planned[i].ne[0];
        report.tensors.push_back({src.gguf_name, planned[i].ne, ggml_type_name(type)});
        auto progress = options.progress;
        const unsigned threads = options.n_threads;
        const bool from_f16 = out.preset.has_value();
        // Loaded and encoded only when the writer reaches this tensor: one tensor in memory.
        w.add_tensor(src.gguf_name, type, planned[i].ne,
                     GgufWriter::DataSource([&m, src, type, ne0, i, count, progress, threads, &hook, from_f16](auto sink) {
                         if (progress) progress(i, count, fmt::format("{} {} {}", src.gguf_name, ggml_type_name(type),
                                                                      fmt::join(src.shape, "x")));
                         std::vector<float> data = load_tensor(m, src, hook);  // [rows, ne0]
                         // Presets quantize what an F16 conversion would hold, so the result is
                         // byte-identical to `convert --type F16` followed by `llcuda quantize`.
                         if (from_f16 && type != GgmlType::F32 && type != GgmlType::F16 && type != GgmlType::BF16)
                             for (float& x : data) x = fp16_to_fp32(fp32_to_fp16(x));
                         const std::vector<uint8_t> bytes = encode_tensor(type, data, ne0, threads);
                         sink(bytes.data(), bytes.size());
                     }),
                     uint32_t(planned[i].ne.size()));
    }
    w.write(output);
    return report;
}

}  // namespace llcuda::convert
