// config.json / tokenizer files -> GGUF keys.
#include "convert/metadata.h"

#include <cmath>
#include <fstream>

#include <fmt/format.h>

#include "llcuda/error.h"
#include "llcuda/tokenizer.h"

namespace llcuda::convert {
namespace {

using json = nlohmann::json;

float get_f32(const json& c, const std::string& key, float fallback) {
    const json* v = config_find(c, key);
    if (!v || v->is_null()) return fallback;
    if (!v->is_number()) throw Error(ErrorKind::FormatError, fmt::format("config.json: '{}' is not a number", key));
    return v->get<float>();
}

std::optional<uint32_t> get_opt_u32(const json& c, const std::string& key) {
    const json* v = config_find(c, key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_number_integer() || v->get<int64_t>() < 0)
        throw Error(ErrorKind::FormatError, fmt::format("config.json: '{}' is not a valid count", key));
    return v->get<uint32_t>();
}

// Rope scaling (docs/gguf.md §Metadata keys, docs/checkpoint-formats.md §Hyperparameters): linear and yarn carry keys; llama3 is written as
// a rope_freqs tensor by the caller; none is nothing.
void write_rope_scaling(GgufWriter& w, const std::string& a, const json& config) {
    // Transformers 5 folds rope_scaling into rope_parameters (rope_type "default" when unscaled).
    const json* rs = config.contains("rope_scaling") ? &config["rope_scaling"]
                     : config.contains("rope_parameters") && !config["rope_parameters"].contains("full_attention")
                         ? &config["rope_parameters"] : nullptr;
    if (!rs || rs->is_null()) return;
    if (!rs->is_object()) throw Error(ErrorKind::FormatError, "config.json: rope_scaling is not an object");
    std::string type = rs->value("rope_type", rs->value("type", std::string()));
    if (type == "default" || type.empty() || type == "llama3") return;  // llama3: rope_freqs tensor
    const float factor = rs->contains("factor") ? (*rs)["factor"].get<float>() : 1.0f;
    if (type == "linear") {
        w.set(a + ".rope.scaling.type", GgufValue::string("linear"));
        w.set(a + ".rope.scaling.factor", GgufValue::f32(factor));
    } else if (type == "yarn") {
        w.set(a + ".rope.scaling.type", GgufValue::string("yarn"));
        w.set(a + ".rope.scaling.factor", GgufValue::f32(factor));
        if (rs->contains("original_max_position_embeddings"))
            w.set(a + ".rope.scaling.original_context_length",
                  GgufValue::u32((*rs)["original_max_position_embeddings"].get<uint32_t>()));
    } else {
        // llama3 / longrope need generated rope_freqs / rope_factors_* tensors: not written yet.
        throw Error(ErrorKind::Unsupported, fmt::format("config.json: rope_scaling type '{}' is not supported", type));
    }
}

}  // namespace

json read_json_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) throw Error(ErrorKind::NotFound, fmt::format("{}: file not found", path.string()));
    try {
        return json::parse(in);
    } catch (const json::exception& e) {
        throw Error(ErrorKind::FormatError, fmt::format("{}: not valid JSON ({})", path.string(), e.what()));
    }
}

void write_general(GgufWriter& w, const HfArch& arch, const std::filesystem::path& hf_dir) {
    w.set("general.architecture", GgufValue::string(arch.gguf_arch));
    w.set("general.type", GgufValue::string("model"));
    std::string name = std::filesystem::absolute(hf_dir).lexically_normal().filename().string();
    if (name.empty()) name = std::filesystem::absolute(hf_dir).lexically_normal().parent_path().filename().string();
    if (!name.empty()) w.set("general.name", GgufValue::string(name));
}

void write_hparams(GgufWriter& w, const HfArch& arch, const json& c, uint32_t file_type) {
    const std::string& a = arch.gguf_arch;
    const HfShape s = hf_shape_from_config(c);
    w.set(a + ".block_count", GgufValue::u32(s.n_layer));
    const auto ctx = get_opt_u32(c, "max_position_embeddings");
    if (ctx) w.set(a + ".context_length", GgufValue::u32(*ctx));
    w.set(a + ".embedding_length", GgufValue::u32(s.n_embd));
    w.set(a + ".feed_forward_length", GgufValue::u32(s.n_ff));
    w.set(a + ".attention.head_count", GgufValue::u32(s.n_head));
    w.set(a + ".attention.head_count_kv", GgufValue::u32(s.n_head_kv));
    write_rope_scaling(w, a, c);
    const float default_base = a == "gemma3" ? 1000000.0f : 10000.0f;
    if (config_find(c, "rope_theta") || a == "gemma3")
        w.set(a + ".rope.freq_base", GgufValue::f32(get_f32(c, "rope_theta", default_base)));
    w.set(a + ".attention.layer_norm_rms_epsilon", GgufValue::f32(get_f32(c, "rms_norm_eps", 1e-6f)));
    if (get_opt_u32(c, "head_dim")) {
        w.set(a + ".attention.key_length", GgufValue::u32(s.head_dim));
        w.set(a + ".attention.value_length", GgufValue::u32(s.head_dim));
    }
    w.set("general.file_type", GgufValue::u32(file_type));

    if (a == "llama") {
        w.set(a + ".vocab_size", GgufValue::u32(s.n_vocab));
        w.set(a + ".rope.dimension_count", GgufValue::u32(s.head_dim));
    } else if (a == "gemma3") {
        // Gemma3 runs sliding-window layers with their own rope base (Transformers 5 keeps it in
        // rope_parameters.sliding_attention).
        float local = get_f32(c, "rope_local_base_freq", 10000.0f);
        if (c.contains("rope_parameters") && c["rope_parameters"].contains("sliding_attention"))
            local = c["rope_parameters"]["sliding_attention"].value("rope_theta", local);
        w.set(a + ".rope.freq_base_swa", GgufValue::f32(local));
        if (const auto sw = get_opt_u32(c, "sliding_window")) w.set(a + ".attention.sliding_window", GgufValue::u32(*sw));
        if (const json* fc = config_find(c, "final_logit_softcapping"); fc && fc->is_number())
            w.set(a + ".final_logit_softcapping", GgufValue::f32(fc->get<float>()));
        const float qscale = get_f32(c, "query_pre_attn_scalar", float(s.head_dim));
        if (qscale != float(s.head_dim))
            throw Error(ErrorKind::Unsupported, fmt::format("gemma3: query_pre_attn_scalar {} differs from head_dim {} "
                                                            "(llama.cpp scales by 1/sqrt(head_dim))", qscale, s.head_dim));
    } else if (a == "phi3") {
        const float partial = get_f32(c, "partial_rotary_factor", 1.0f);
        w.set(a + ".rope.dimension_count", GgufValue::u32(uint32_t(partial * float(s.n_embd)) / s.n_head));
        w.set(a + ".attention.sliding_window", GgufValue::u32(get_opt_u32(c, "sliding_window").value_or(0)));
        if (const auto orig = get_opt_u32(c, "original_max_position_embeddings"))
            w.set(a + ".rope.scaling.original_context_length", GgufValue::u32(*orig));
    }
    w.set("general.quantization_version", GgufValue::u32(2));
}

uint32_t write_tokenizer(GgufWriter& w, const std::filesystem::path& dir, uint32_t n_vocab, bool allow_truncate) {
    const auto tok_path = dir / "tokenizer.json";
    if (!std::filesystem::exists(tok_path))
        throw Error(ErrorKind::NotFound, fmt::format("{}: tokenizer.json not found (SentencePiece tokenizer.model "
                                                     "alone is not supported yet)", dir.string()));
    const Tokenizer tok = Tokenizer::from_hf_json_file(tok_path);
    Vocabulary v = tok.vocabulary();
    if (v.tokens.size() > n_vocab)
        throw Error(ErrorKind::FormatError, fmt::format("tokenizer has {} tokens but the model only {} embedding rows",
                                                        v.tokens.size(), n_vocab));
    if (!allow_truncate) {
        for (size_t i = v.tokens.size(); i < n_vocab; ++i) {
            v.tokens.push_back(fmt::format("[PAD{}]", i));
            v.token_types.push_back(TokenType::Unused);
            if (!v.scores.empty()) v.scores.push_back(0.0f);
        }
    }
    int32_t eos = v.eos_id;
    std::vector<int32_t> extra_eos;  // generation_config eos ids beyond the tokenizer's
    if (std::filesystem::exists(dir / "generation_config.json")) {
        const json g = read_json_file(dir / "generation_config.json");
        if (g.contains("eos_token_id")) {
            const json& e = g["eos_token_id"];
            std::vector<int32_t> ids;
            if (e.is_number_integer()) ids.push_back(e.get<int32_t>());
            else if (e.is_array()) for (const auto& x : e) if (x.is_number_integer()) ids.push_back(x.get<int32_t>());
            for (int32_t id : ids) {
                if (id < 0 || size_t(id) >= v.tokens.size())
                    throw Error(ErrorKind::FormatError, fmt::format("generation_config.json: eos id {} outside the vocabulary", id));
                if (eos < 0) eos = id;
                else if (id != eos) extra_eos.push_back(id);
            }
        }
    }
    v.eos_id = eos;
    add_vocabulary_to_gguf(v, w);
    if (v.model != "llama") w.remove("tokenizer.ggml.add_space_prefix");  // as llama.cpp's converter writes it
    // A second stop id (e.g. Llama 3's <|eot_id|> next to <|end_of_text|>) becomes the eot token,
    // which the engine also stops on.
    if (!extra_eos.empty()) w.set("tokenizer.ggml.eot_token_id", GgufValue::u32(uint32_t(extra_eos.front())));

    // chat_template: a string, or a list of {name, template} (default one first).
    std::string tmpl;
    if (std::filesystem::exists(dir / "tokenizer_config.json")) {
        const json tc = read_json_file(dir / "tokenizer_config.json");
        if (tc.contains("chat_template")) {
            const json& t = tc["chat_template"];
            if (t.is_string()) tmpl = t.get<std::string>();
            else if (t.is_array()) {
                for (const auto& e : t) if (e.value("name", "") == "default") tmpl = e.value("template", "");
            }
        }
    }
    if (tmpl.empty() && std::filesystem::exists(dir / "chat_template.jinja")) {
        std::ifstream in(dir / "chat_template.jinja");
        tmpl.assign(std::istreambuf_iterator<char>(in), {});
    }
    if (!tmpl.empty()) w.set("tokenizer.chat_template", GgufValue::string(tmpl));
    return uint32_t(v.tokens.size());
}

}  // namespace llcuda::convert
