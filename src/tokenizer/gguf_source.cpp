// `tokenizer.ggml.*` (docs/gguf.md §Metadata keys) <-> Vocabulary, with the key types
// llama.cpp requires (ids u32, token types i32[], scores f32[], flags bool).
#include "llcuda/error.h"
#include "llcuda/gguf.h"
#include "llcuda/tokenizer.h"

namespace llcuda {

namespace {

int32_t optional_id(const GgufContents& c, std::string_view key) {
    if (!c.has(key)) return -1;
    const int64_t v = c.get_integer(key);
    if (v < 0 || v > INT32_MAX) throw Error(ErrorKind::FormatError, "tokenizer: " + std::string(key) + " = " + std::to_string(v) + " is not a token id");
    return static_cast<int32_t>(v);
}

}  // namespace

Tokenizer Tokenizer::from_gguf(const GgufContents& c) {
    Vocabulary v;
    v.model = c.get_string("tokenizer.ggml.model");
    v.pre = c.get_string_or("tokenizer.ggml.pre", "default");
    v.tokens = c.get_array("tokenizer.ggml.tokens").strings;
    if (v.tokens.empty())
        throw Error(ErrorKind::FormatError, "tokenizer: tokenizer.ggml.tokens is not a non-empty string array");
    if (const GgufValue* types = c.find("tokenizer.ggml.token_type")) {
        (void)types;
        const auto raw = c.get_array("tokenizer.ggml.token_type").as<int32_t>();
        v.token_types.reserve(raw.size());
        for (int32_t t : raw) {
            if (t < 0 || t > 6) throw Error(ErrorKind::FormatError, "tokenizer: token type " + std::to_string(t) + " is not 0..6");
            v.token_types.push_back(static_cast<TokenType>(t));
        }
    } else {
        v.token_types.assign(v.tokens.size(), TokenType::Normal);
    }
    if (c.has("tokenizer.ggml.scores")) v.scores = c.get_array("tokenizer.ggml.scores").as<float>();
    if (c.has("tokenizer.ggml.merges")) v.merges = c.get_array("tokenizer.ggml.merges").strings;

    const bool spm = v.model == "llama";
    // llama.cpp's defaults for SentencePiece vocabularies: bos 1, eos 2, unk 0, add BOS, space prefix.
    v.bos_id = optional_id(c, "tokenizer.ggml.bos_token_id");
    v.eos_id = optional_id(c, "tokenizer.ggml.eos_token_id");
    v.unk_id = optional_id(c, "tokenizer.ggml.unknown_token_id");
    v.pad_id = optional_id(c, "tokenizer.ggml.padding_token_id");
    if (spm) {
        if (v.bos_id < 0) v.bos_id = 1;
        if (v.eos_id < 0) v.eos_id = 2;
        if (v.unk_id < 0) v.unk_id = 0;
    }
    v.add_bos = c.get_bool_or("tokenizer.ggml.add_bos_token", spm);
    v.add_eos = c.get_bool_or("tokenizer.ggml.add_eos_token", false);
    v.add_space_prefix = c.get_bool_or("tokenizer.ggml.add_space_prefix", spm);
    if (!spm) v.add_space_prefix = false;
    return from_vocabulary(v);
}

Tokenizer Tokenizer::from_gguf_file(const std::filesystem::path& path) {
    const GgufFile file = GgufFile::open(path);
    try {
        return from_gguf(file.contents());
    } catch (const Error& e) {
        throw Error(e.kind(), path.string() + ": " + e.what());
    }
}

void add_vocabulary_to_gguf(const Vocabulary& v, GgufWriter& writer) {
    writer.set("tokenizer.ggml.model", GgufValue::string(v.model));
    writer.set("tokenizer.ggml.pre", GgufValue::string(v.pre));
    writer.set("tokenizer.ggml.tokens", GgufValue::string_array(v.tokens));
    if (!v.scores.empty())
        writer.set("tokenizer.ggml.scores", GgufValue::numeric_array<float>(GgufType::Float32, v.scores));
    std::vector<int32_t> types(v.token_types.size());
    for (size_t i = 0; i < types.size(); ++i) types[i] = static_cast<int32_t>(v.token_types[i]);
    writer.set("tokenizer.ggml.token_type", GgufValue::numeric_array<int32_t>(GgufType::Int32, types));
    if (!v.merges.empty()) writer.set("tokenizer.ggml.merges", GgufValue::string_array(v.merges));
    const std::pair<const char*, int32_t> ids[] = {{"tokenizer.ggml.bos_token_id", v.bos_id},
                                                   {"tokenizer.ggml.eos_token_id", v.eos_id},
                                                   {"tokenizer.ggml.unknown_token_id", v.unk_id},
                                                   {"tokenizer.ggml.padding_token_id", v.pad_id}};
    for (const auto& [key, id] : ids) {
        if (id >= 0) writer.set(key, GgufValue::u32(static_cast<uint32_t>(id)));
        else writer.remove(key);
    }
    writer.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(v.add_bos));
    writer.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(v.add_eos));
    writer.set("tokenizer.ggml.add_space_prefix", GgufValue::boolean(v.add_space_prefix));
}

}  // namespace llcuda
