// Opening an HF checkpoint and loading its tensors with the converter's transforms.
#include "convert/hf_model.h"

#include <fmt/format.h>

#include "convert/bnb4_weight.h"
#include "convert/metadata.h"
#include "convert/permute.h"
#include "core/fp16.h"
#include "llcuda/error.h"

namespace llcuda::convert {
namespace {

StDtype dtype_from_torch_name(const std::string& name) {
    if (name == "bfloat16") return StDtype::BF16;
    if (name == "float16") return StDtype::F16;
    return StDtype::F32;
}

}  // namespace

HfModel open_hf_model(const std::filesystem::path& dir) {
    if (!std::filesystem::is_directory(dir))
        throw Error(ErrorKind::NotFound, fmt::format("{}: not a directory", dir.string()));
    HfModel m;
    m.dir = dir;
    m.config = read_json_file(dir / "config.json");
    if (!m.config.is_object()) throw Error(ErrorKind::FormatError, "config.json is not a JSON object");
    m.arch = hf_arch_from_config(m.config);
    m.shape = hf_shape_from_config(m.config);
    m.st = SafetensorsSet::open_dir(dir);
    m.n_vocab_out = m.shape.n_vocab;
    for (const auto& name : m.st.names()) {
        if (is_bnb4_side_tensor(name)) continue;
        const auto gguf = gguf_tensor_name(m.arch, name);
        if (!gguf) continue;
        SourceTensor t;
        t.hf_name = name;
        t.gguf_name = *gguf;
        const StTensor& st = m.st.at(name);
        if (is_bnb4_weight(m.st, name)) {
            t.bnb4 = true;
            t.shape = bnb4_shape(m.st, name);
            t.dtype = dtype_from_torch_name(m.config.value("torch_dtype", m.config.value("dtype", std::string("float32"))));
        } else {
            t.shape = st.shape;
            t.dtype = st.dtype;
            if (st.dtype != StDtype::F32 && st.dtype != StDtype::F16 && st.dtype != StDtype::BF16)
                throw Error(ErrorKind::Unsupported, fmt::format("tensor '{}' has dtype {} (expected F32, F16 or BF16)",
                                                                name, st_dtype_name(st.dtype)));
        }
        if (t.shape.empty() || t.shape.size() > 2)
            throw Error(ErrorKind::Unsupported, fmt::format("tensor '{}' has {} dims", name, t.shape.size()));
        m.tensors.push_back(std::move(t));
    }
    if (!m.st.find("model.embed_tokens.weight"))
        throw Error(ErrorKind::NotFound, "checkpoint has no model.embed_tokens.weight");
    return m;
}

uint32_t permute_heads(const HfModel& m, const std::string& g) {
    if (!m.arch.permute_qk) return 0;
    if (g.ends_with(".attn_q.weight") || g.ends_with(".attn_q.bias")) return m.shape.n_head;
    if (g.ends_with(".attn_k.weight") || g.ends_with(".attn_k.bias")) return m.shape.n_head_kv;
    return 0;
}

std::vector<float> load_tensor(const HfModel& m, const SourceTensor& t, const DeltaHook& hook) {
    std::vector<float> data = t.bnb4 ? bnb4_load(m.st, t.hf_name) : read_f32(m.st.at(t.hf_name));  // [rows, cols]
    const uint64_t rows = t.shape[0], cols = t.shape.size() > 1 ? t.shape[1] : 1;
    if (data.size() < rows * cols)
        throw Error(ErrorKind::FormatError, fmt::format("tensor '{}' is smaller than its shape", t.hf_name));
    data.resize(rows * cols);  // vocabulary truncation keeps the first rows
    if (hook) hook(t, data);
    if (m.arch.norm_plus_one && t.hf_name.ends_with("norm.weight")) {
        // The converter adds 1 in the source precision (f16 stays f16), bf16 was upcast first.
        if (t.dtype == StDtype::F16) for (float& x : data) x = fp16_to_fp32(fp32_to_fp16(x + 1.0f));
        else for (float& x : data) x += 1.0f;
    }
    if (const uint32_t heads = permute_heads(m, t.gguf_name)) permute_qk_rows(data, rows, cols, heads);
    return data;
}

}  // namespace llcuda::convert
