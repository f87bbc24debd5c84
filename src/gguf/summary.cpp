#include "llcuda/gguf_summary.h"

#include <fmt/format.h>

namespace llcuda {

namespace {

// Hyperparameter keys shown for every architecture, relative to "{arch}.".
constexpr std::pair<const char*, const char*> kHyperparameters[] = {
    {"context_length", "context length"},
    {"embedding_length", "embedding size"},
    {"block_count", "layers"},
    {"feed_forward_length", "feed-forward size"},
    {"attention.head_count", "attention heads"},
    {"attention.head_count_kv", "key/value heads"},
    {"attention.key_length", "key length"},
    {"attention.value_length", "value length"},
    {"attention.sliding_window", "sliding window"},
    {"attention.layer_norm_rms_epsilon", "RMS norm epsilon"},
    {"rope.dimension_count", "rope dimensions"},
    {"rope.freq_base", "rope base"},
    {"rope.freq_base_swa", "rope base (local)"},
    {"rope.scaling.type", "rope scaling"},
    {"rope.scaling.factor", "rope scaling factor"},
    {"expert_count", "experts"},
    {"expert_used_count", "experts used"},
    {"vocab_size", "vocabulary size"},
};

// Special tokens whose id and text are shown.
constexpr std::pair<const char*, const char*> kSpecialTokens[] = {
    {"bos_token_id", "BOS"}, {"eos_token_id", "EOS"}, {"eot_token_id", "EOT"}, {"eom_token_id", "EOM"},
    {"unknown_token_id", "UNK"}, {"padding_token_id", "PAD"}, {"seperator_token_id", "SEP"},
    {"mask_token_id", "MASK"},
};

void summarize_tokenizer(const GgufContents& c, ModelSummary& s) {
    auto add = [&](std::string label, std::string value) { s.tokenizer.emplace_back(std::move(label), std::move(value)); };
    if (const GgufValue* model = c.find("tokenizer.ggml.model")) add("model", describe_value(*model));
    if (const GgufValue* pre = c.find("tokenizer.ggml.pre")) add("pre-tokenizer", describe_value(*pre));
    const GgufValue* tokens = c.find("tokenizer.ggml.tokens");
    const GgufArray* token_array =
        tokens && tokens->type() == GgufType::Array ? &std::get<GgufArray>(tokens->storage()) : nullptr;
    if (token_array) add("vocabulary", fmt::format("{} tokens", token_array->count));
    if (const GgufValue* merges = c.find("tokenizer.ggml.merges"); merges && merges->type() == GgufType::Array) {
        add("merges", fmt::format("{}", std::get<GgufArray>(merges->storage()).count));
    }
    for (const auto& [key, label] : kSpecialTokens) {
        const GgufValue* id = c.find(std::string("tokenizer.ggml.") + key);
        if (!id || id->type() != GgufType::UInt32) continue;
        const uint32_t token = std::get<uint32_t>(id->storage());
        std::string text;
        if (token_array && token_array->elem_type == GgufType::String && token < token_array->count) {
            text = " " + describe_value(GgufValue::string(token_array->strings[token]), 0, 40);
        }
        add(label, fmt::format("{}{}", token, text));
    }
    for (const char* flag : {"add_bos_token", "add_eos_token", "add_space_prefix"}) {
        if (const GgufValue* v = c.find(std::string("tokenizer.ggml.") + flag)) add(flag, describe_value(*v));
    }
    s.has_chat_template = c.has("tokenizer.chat_template");
    add("chat template", s.has_chat_template
                             ? fmt::format("present ({} bytes)", c.get_string_or("tokenizer.chat_template", "").size())
                             : "absent");
}

}  // namespace

ModelSummary summarize_model(const GgufContents& c) {
    ModelSummary s;
    s.architecture = c.find("general.architecture") && c.find("general.architecture")->type() == GgufType::String
                         ? c.get_string("general.architecture")
                         : "";
    if (const GgufValue* name = c.find("general.name"); name && name->type() == GgufType::String) {
        s.name = std::get<std::string>(name->storage());
    }
    if (const GgufValue* ft = c.find("general.file_type"); ft && ft->type() == GgufType::UInt32) {
        s.file_type = std::get<uint32_t>(ft->storage());
    }
    if (!s.architecture.empty()) {
        for (const auto& [key, label] : kHyperparameters) {
            if (const GgufValue* v = c.find(s.architecture + "." + key)) {
                s.hyperparameters.emplace_back(label, describe_value(*v, 4));
            }
        }
    }
    summarize_tokenizer(c, s);
    for (const auto& t : c.tensors) {
        TypeTotals& totals = s.by_type[ggml_type_name(t.type)];
        totals.n_tensors += 1;
        totals.n_elements += t.n_elements();
        totals.n_bytes += t.n_bytes;
        s.n_parameters += t.n_elements();
        s.n_tensor_bytes += t.n_bytes;
    }
    s.bits_per_weight = s.n_parameters ? 8.0 * double(s.n_tensor_bytes) / double(s.n_parameters) : 0.0;
    return s;
}

}  // namespace llcuda
