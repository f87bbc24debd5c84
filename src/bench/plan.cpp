// Tensor list of a bench model and the type of each, through the planner `llcuda quantize` uses
// (quant/mixes.h), so a bench file of a preset has the types a real file of that preset has.
#include <fmt/format.h>

#include "bench/random_fill.h"
#include "llcuda/bench_model.h"
#include "llcuda/error.h"
#include "quant/mixes.h"

namespace llcuda {
namespace {

// The tensors of a llama-architecture checkpoint as a converter writes them (all F32 here: the
// planner only keeps the type of tensors it does not quantize, the norms).
std::vector<quant::PlanTensor> llama_tensors(const BenchShape& s) {
    std::vector<quant::PlanTensor> out;
    auto add = [&](std::string name, uint64_t ne0, uint64_t ne1) {
        quant::PlanTensor t;
        t.name = std::move(name);
        t.n_dims = ne1 > 1 ? 2 : 1;
        t.ne = {ne0, ne1, 1, 1};
        t.current = GgmlType::F32;
        out.push_back(std::move(t));
    };
    const uint64_t q_dim = uint64_t(s.n_head) * s.head_dim, kv_dim = uint64_t(s.n_head_kv) * s.head_dim;
    add("token_embd.weight", s.n_embd, s.n_vocab);
    add("output_norm.weight", s.n_embd, 1);
    if (!s.tied_embeddings) add("output.weight", s.n_embd, s.n_vocab);
    for (uint32_t il = 0; il < s.n_layer; ++il) {
        const std::string p = fmt::format("blk.{}.", il);
        add(p + "attn_norm.weight", s.n_embd, 1);
        add(p + "attn_q.weight", s.n_embd, q_dim);
        add(p + "attn_k.weight", s.n_embd, kv_dim);
        add(p + "attn_v.weight", s.n_embd, kv_dim);
        add(p + "attn_output.weight", q_dim, s.n_embd);
        add(p + "ffn_norm.weight", s.n_embd, 1);
        add(p + "ffn_gate.weight", s.n_embd, s.n_ff);
        add(p + "ffn_up.weight", s.n_embd, s.n_ff);
        add(p + "ffn_down.weight", s.n_ff, s.n_embd);
    }
    return out;
}

}  // namespace

std::vector<BenchTensor> plan_bench_model(const BenchShape& shape, std::string_view type) {
    std::optional<quant::FileTypePreset> preset = quant::file_type_preset(type);
    quant::PlanOptions options;
    if (!preset) {
        // A bare ggml type: every matrix gets it (llama-quantize --pure), with the shape fallback.
        const auto ggml = ggml_type_from_name(type);
        if (!ggml)
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("bench model: '{}' is neither a quantize preset (Q4_K_M, Q8_0, F16, ...) nor a "
                                    "ggml type",
                                    type));
        preset = quant::FileTypePreset{quant::FileType::ALL_F32, ggml_type_name(*ggml), *ggml};
        options.pure = true;
    }
    const std::vector<quant::PlanTensor> tensors = llama_tensors(shape);
    quant::ModelFacts facts;
    facts.arch = "llama";
    facts.n_layer = shape.n_layer;
    facts.n_head = shape.n_head;
    facts.n_head_kv = shape.n_head_kv;
    const std::vector<GgmlType> types = quant::plan_tensor_types(tensors, *preset, facts, options);

    std::vector<BenchTensor> out;
    for (size_t index : quant::visit_order(tensors)) {  // llama-quantize writes tensors in this order
        const quant::PlanTensor& t = tensors[index];
        if (!bench::BlockFiller::supports(types[index]))
            throw Error(ErrorKind::Unsupported, fmt::format("bench model: {} would be {}, which the random writer "
                                                            "cannot fill",
                                                            t.name, ggml_type_name(types[index])));
        BenchTensor b;
        b.name = t.name;
        b.n_dims = t.n_dims;
        b.ne = t.ne;
        b.type = types[index];
        b.n_bytes = ggml_row_bytes(b.type, b.ne[0]) * b.ne[1];
        out.push_back(std::move(b));
    }
    return out;
}

}  // namespace llcuda
