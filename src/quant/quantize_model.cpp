// quantize_model (include/llcuda/quantize.h): the `llcuda quantize` pipeline of docs/quant-mixes.md §Pipeline.
// Tensors are visited in llama-quantize's order (which is also the output order); each one is
// either copied byte for byte (type unchanged) or converted to float32 and re-quantized in chunks
// of rows, so memory stays bounded by one chunk rather than one model.
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "llcuda/error.h"
#include "llcuda/gguf.h"
#include "llcuda/quantize.h"
#include "quant/imatrix.h"
#include "quant/mixes.h"
#include "quant/size_plan.h"

namespace llcuda {
namespace {

constexpr uint64_t kChunkElements = uint64_t(1) << 24;  // rows per conversion chunk: <= 16M floats

bool is_float_type(GgmlType t) { return t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16; }

// Converts one tensor: source rows -> float32 -> target type, streamed to `out` chunk by chunk.
void convert_tensor(std::span<const uint8_t> src, const GgufTensorInfo& info, GgmlType to,
                    const std::vector<float>* imatrix, unsigned n_threads,
                    const std::function<void(const void*, size_t)>& out) {
    const uint64_t ne0 = info.ne[0];
    const uint64_t n_rows = info.n_elements() / ne0;
    const uint64_t rows_per_expert = info.ne[1];
    const uint64_t in_row = ggml_row_bytes(info.type, ne0), out_row = ggml_row_bytes(to, ne0);
    const uint64_t chunk_rows = std::max<uint64_t>(1, std::min(rows_per_expert, kChunkElements / ne0));
    std::vector<float> f32;
    std::vector<uint8_t> q;
    for (uint64_t r = 0; r < n_rows;) {
        // Chunks never straddle an expert (3-D tensors) so one imatrix slice serves the chunk.
        const uint64_t expert = r / rows_per_expert;
        const uint64_t n = std::min(chunk_rows, (expert + 1) * rows_per_expert - r);
        f32.resize(n * ne0);
        dequantize(info.type, src.subspan(r * in_row, n * in_row), f32);
        QuantizeOptions options;
        options.n_threads = n_threads;
        if (imatrix) options.imatrix = std::span(*imatrix).subspan(imatrix->size() == ne0 ? 0 : expert * ne0, ne0);
        q.resize(n * out_row);
        quantize(to, f32, ne0, q, options);
        out(q.data(), q.size());
        r += n;
    }
}

}  // namespace

ModelQuantizeReport quantize_model(const std::filesystem::path& input, const std::filesystem::path& output,
                                   const ModelQuantizeParams& params,
                                   const std::function<void(const ModelQuantizeReport::Tensor&)>& progress) {
    const auto preset = quant::file_type_preset(params.file_type);
    if (!preset) {
        std::string names;
        for (const auto& p : quant::file_type_presets()) names += std::string(names.empty() ? "" : ", ") + p.name;
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("quantize: unknown or unsupported type '{}' (supported: {})", params.file_type, names));
    }
    if (std::filesystem::exists(output) && std::filesystem::equivalent(input, output))
        throw Error(ErrorKind::InvalidArgument, "quantize: output must differ from the input file");

    const GgufFile file = GgufFile::open(input);
    const GgufContents& c = file.contents();
    std::optional<quant::ImportanceMatrix> imatrix;
    if (!params.imatrix.empty()) imatrix = quant::load_imatrix(params.imatrix);

    const std::vector<quant::PlanTensor> plan_in = quant::plan_tensors_of(c);
    quant::PlanOptions options;
    options.pure = params.pure;
    options.leave_output = params.leave_output;
    options.output_type = params.output_type;
    options.token_embedding_type = params.token_embedding_type;
    const auto planned = quant::plan_tensor_types(plan_in, *preset, quant::model_facts_of(c), options);

    GgufWriter writer;
    for (const auto& kv : c.kvs)
        if (!kv.key.starts_with("split.")) writer.set(kv.key, kv.value);
    // llama-quantize re-appends these two keys, so they end up last.
    writer.remove("general.quantization_version");
    writer.set("general.quantization_version", GgufValue::u32(2));
    writer.remove("general.file_type");
    writer.set("general.file_type", GgufValue::u32(uint32_t(preset->ftype)));
    if (imatrix) {
        writer.set("quantize.imatrix.file", GgufValue::string(params.imatrix.filename().string().substr(0, 127)));
        if (!imatrix->datasets.empty()) writer.set("quantize.imatrix.dataset", GgufValue::string(imatrix->datasets[0]));
        writer.set("quantize.imatrix.entries_count", GgufValue::u32(uint32_t(imatrix->values.size())));
        writer.set("quantize.imatrix.chunks_count", GgufValue::u32(imatrix->chunk_count));
    }

    ModelQuantizeReport report;
    report.file_type = uint32_t(preset->ftype);
    for (size_t index : quant::visit_order(plan_in)) {
        const GgufTensorInfo& info = c.tensors[index];
        ModelQuantizeReport::Tensor entry{info.name, info.type, planned[index], info.n_bytes, 0, false};
        const std::vector<float>* weights = nullptr;
        if (imatrix && entry.to != entry.from && quantize_uses_imatrix(entry.to)) {
            if (auto it = imatrix->values.find(info.name); it != imatrix->values.end()) {
                if (it->second.size() != info.ne[0] && it->second.size() != info.ne[0] * info.ne[2])
                    throw Error(ErrorKind::InvalidArgument,
                                fmt::format("quantize: imatrix entry {} has {} values, expected {}", info.name,
                                            it->second.size(), info.ne[0]));
                weights = &it->second;
                entry.used_imatrix = true;
            }
        }
        if (entry.to != entry.from) {
            if (!is_float_type(entry.from) && !params.allow_requantize)
                throw Error(ErrorKind::InvalidArgument,
                            fmt::format("quantize: tensor {} is already {}; pass --allow-requantize to convert it to {}",
                                        info.name, ggml_type_name(entry.from), ggml_type_name(entry.to)));
            if (!can_quantize(entry.to))
                throw Error(ErrorKind::Unsupported,
                            fmt::format("quantize: cannot produce {} for {}", ggml_type_name(entry.to), info.name));
        }
        entry.bytes_out = ggml_row_bytes(entry.to, info.ne[0]) * (info.n_elements() / info.ne[0]);
        report.bytes_in += entry.bytes_in;
        report.bytes_out += entry.bytes_out;
        const std::span<const uint64_t> ne(info.ne.data(), info.n_dims);
        const auto data = file.tensor_data(info);
        if (entry.to == entry.from) {
            writer.add_tensor(info.name, info.type, ne, data, info.n_dims);
        } else {
            const unsigned n_threads = params.n_threads;
            writer.add_tensor(info.name, entry.to, ne,
                              GgufWriter::DataSource([=, &info, &progress](std::function<void(const void*, size_t)> out) {
                                  if (progress) progress(entry);
                                  convert_tensor(data, info, entry.to, weights, n_threads, out);
                              }),
                              info.n_dims);
        }
        report.tensors.push_back(entry);
    }
    writer.write(output);
    return report;
}

}  // namespace llcuda
