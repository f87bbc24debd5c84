// `llcuda export --base BASE.gguf`: merge a PEFT adapter into an existing GGUF model.
#include <fmt/format.h>

#include "convert/encode.h"
#include "convert/export_paths.h"
#include "convert/out_type.h"
#include "convert/permute.h"
#include "llcuda/error.h"
#include "llcuda/gguf.h"
#include "llcuda/quantize.h"

namespace llcuda::convert {

ConvertReport export_merged_gguf_base(const std::filesystem::path& base_gguf, const LoraAdapter& adapter,
                                      const std::filesystem::path& output, const ExportOptions& options) {
    const GgufFile file = GgufFile::open(base_gguf);
    const GgufContents& g = file.contents();
    const std::string arch_name = g.get_string("general.architecture");
    const auto arch = hf_arch_for_gguf(arch_name);
    if (!arch) throw Error(ErrorKind::Unsupported, fmt::format("GGUF architecture '{}' is not supported for export", arch_name));
    const uint32_t n_head = g.get_u32(arch_name + ".attention.head_count");
    const uint32_t n_head_kv = g.get_u32_or(arch_name + ".attention.head_count_kv", n_head);

    // gguf tensor name -> adapter module; every module must land on a tensor of matching shape.
    std::map<std::string, const LoraModule*> targets;
    for (const auto& [hf_name, m] : adapter.modules()) {
        const auto gname = gguf_tensor_name(*arch, hf_name);
        const GgufTensorInfo* info = gname ? g.find_tensor(*gname) : nullptr;
        if (!info)
            throw Error(ErrorKind::FormatError, fmt::format("adapter module '{}' has no tensor in {}", m.module, base_gguf.string()));
        uint64_t rows = m.b->shape[0], cols = m.a->shape[1];
        if (m.embedding || adapter.fan_in_fan_out()) std::swap(rows, cols);
        if (info->n_dims != 2 || info->ne[0] != cols || info->ne[1] != rows)
            throw Error(ErrorKind::FormatError, fmt::format("LoRA module '{}' makes a {}x{} delta but '{}' is {}x{}", m.module,
                                                            rows, cols, *gname, info->ne[1], info->ne[0]));
        if (!can_dequantize(info->type))
            throw Error(ErrorKind::Unsupported, fmt::format("'{}' has type {} which cannot be dequantized", *gname,
                                                            ggml_type_name(info->type)));
        targets[*gname] = &m;
    }

    const bool keep = options.out_type == "auto" || options.out_type == "AUTO";
    std::vector<GgmlType> types;
    OutType out;
    if (!keep) {
        out = parse_out_type(options.out_type, false);
        std::vector<PlannedTensor> planned;
        for (const auto& t : g.tensors) planned.push_back({t.name, std::vector<uint64_t>(t.ne.begin(), t.ne.begin() + t.n_dims)});
        quant::ModelFacts facts{arch_name, g.get_u32(arch_name + ".block_count"), n_head, n_head_kv, 0};
        types = plan_types(planned, out, facts);
    }

    GgufWriter w;
    for (const auto& kv : g.kvs) {
        if (kv.key == "general.alignment") w.set_alignment(g.alignment);
        else w.set(kv.key, kv.value);
    }
    if (!keep) w.set("general.file_type", GgufValue::u32(out.file_type));
    ConvertReport report;
    report.architecture = arch_name;
    for (size_t i = 0; i < g.tensors.size(); ++i) {
        const GgufTensorInfo& t = g.tensors[i];
        const GgmlType type = keep ? t.type : types[i];
        const std::vector<uint64_t> ne(t.ne.begin(), t.ne.begin() + t.n_dims);
        report.tensors.push_back({t.name, ne, ggml_type_name(type)});
        const auto target = targets.find(t.name);
        if (type == t.type && target == targets.end()) {
            w.add_tensor(t.name, t.type, ne, file.tensor_data(t), t.n_dims);
            continue;
        }
        const LoraModule* m = target == targets.end() ? nullptr : target->second;
        if (m) ++report.n_merged_lora;
        uint32_t heads = 0;
        if (arch->permute_qk && t.name.ends_with(".attn_q.weight")) heads = n_head;
        if (arch->permute_qk && t.name.ends_with(".attn_k.weight")) heads = n_head_kv;
        const auto progress = options.progress;
        const size_t count = g.tensors.size();
        w.add_tensor(t.name, type, ne, GgufWriter::DataSource([&, t, m, type, heads, i, count, progress](auto sink) {
            if (progress) progress(i, count, fmt::format("{} {}{}", t.name, ggml_type_name(type), m ? " +lora" : ""));
            std::vector<float> data(t.n_elements());  // [ne1, ne0] row-major = HF [out, in]
            dequantize(t.type, file.tensor_data(t), data);
            if (m) {
                // The stored weight is already permuted; permute the delta the same way (P(BA) = (PB)A).
                std::vector<float> d = adapter.delta(*m);
                if (heads) permute_qk_rows(d, t.ne[1], t.ne[0], heads);
                for (size_t k = 0; k < data.size(); ++k) data[k] += d[k];
            }
            const auto bytes = encode_tensor(type, data, t.ne[0], options.n_threads);
            sink(bytes.data(), bytes.size());
        }), t.n_dims);
    }
    w.write(output);
    return report;
}

}  // namespace llcuda::convert
