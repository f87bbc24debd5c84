// The converted GGUF carries what llama.cpp's converter would write: expected tensor names and ggml
// shapes, hyperparameter keys, tokens, merges, special ids and chat template, all derived by
// tests/oracles/convert_expected_gguf.py with llama.cpp's `gguf` package and transformers.
#include <cstring>
#include <fstream>
#include <set>

#include "convert_test_util.h"
#include "llcuda/convert.h"
#include "llcuda/gguf.h"
#include "llcuda/tokenizer.h"

namespace llcuda::test {
namespace {

class ConvertMetadata : public ::testing::TestWithParam<const char*> {};

void expect_key(const GgufContents& g, const std::string& key, const nlohmann::json& want) {
    const GgufValue* v = g.find(key);
    ASSERT_NE(v, nullptr) << "missing key " << key;
    if (want.is_string()) {
        EXPECT_EQ(g.get_string(key), want.get<std::string>()) << key;
    } else if (want.is_number_integer()) {
        EXPECT_EQ(v->type(), GgufType::UInt32) << key << " must be u32 (llama.cpp checks the type)";
        EXPECT_EQ(g.get_u32(key), want.get<uint32_t>()) << key;
    } else {
        EXPECT_EQ(v->type(), GgufType::Float32) << key << " must be f32";
        EXPECT_FLOAT_EQ(g.get_f32(key), want.get<float>()) << key;
    }
}

TEST_P(ConvertMetadata, MatchesReferenceConverter) {
    const std::string name = GetParam();
    ScratchDir dir;
    const auto out = dir / "model.gguf";
    ConvertOptions options;
    options.out_type = "F16";
    convert_hf_to_gguf(convert_golden(name), out, options);
    const auto want = load_json(convert_golden(name + "_expected_gguf.json"));
    const GgufFile file = GgufFile::open(out);
    const GgufContents& g = file.contents();

    // Same tensor set, same ggml shapes.
    std::set<std::string> seen;
    for (const auto& t : g.tensors) {
        seen.insert(t.name);
        ASSERT_TRUE(want["tensors"].contains(t.name)) << "unexpected tensor " << t.name;
        const auto ne = want["tensors"][t.name].get<std::vector<uint64_t>>();
        ASSERT_EQ(t.n_dims, ne.size()) << t.name;
        for (size_t d = 0; d < ne.size(); ++d) EXPECT_EQ(t.ne[d], ne[d]) << t.name << " dim " << d;
        // Converter dtype rule: 1-D tensors and norms F32, 2-D weights the requested type.
        EXPECT_EQ(t.type, t.n_dims == 1 ? GgmlType::F32 : GgmlType::F16) << t.name;
    }
    EXPECT_EQ(seen.size(), want["tensors"].size());

    for (const auto& [key, value] : want["keys"].items()) expect_key(g, key, value);
    EXPECT_EQ(g.get_u32("general.file_type"), 1u);

    const auto& tokens = g.get_array("tokenizer.ggml.tokens");
    EXPECT_EQ(tokens.strings, want["tokens"].get<std::vector<std::string>>());
    EXPECT_EQ(g.get_array("tokenizer.ggml.token_type").as<int32_t>(), want["token_types"].get<std::vector<int32_t>>());
    EXPECT_EQ(g.get_array("tokenizer.ggml.merges").strings, want["merges"].get<std::vector<std::string>>());
    EXPECT_EQ(g.get_string("tokenizer.ggml.model"), "gpt2");
    EXPECT_EQ(g.get_string("tokenizer.ggml.pre"), "qwen2");
    for (const auto& [key, id] : want["special_ids"].items()) expect_key(g, key, id);
    EXPECT_EQ(g.get_string("tokenizer.chat_template"), want["chat_template"].get<std::string>());

    // The written tokenizer keys tokenize like the Hugging Face tokenizer they came from.
    const Tokenizer tok = Tokenizer::from_gguf(g);
    for (const auto& [text, ids] : want["encode"].items())
        EXPECT_EQ(tok.encode(text), ids.get<std::vector<int32_t>>()) << text;
}

INSTANTIATE_TEST_SUITE_P(Archs, ConvertMetadata,
                         ::testing::Values("llama", "mistral", "qwen2", "qwen3", "gemma3", "phi3"));

// llama/mistral: q/k rows permuted to llama.cpp's interleaved rotary layout (docs/checkpoint-formats.md §Q/K permutation);
// v rows untouched. Checked against the raw safetensors bytes with an F32 conversion.
TEST(ConvertMetadata, LlamaQkPermutation) {
    ScratchDir dir;
    ConvertOptions options;
    options.out_type = "F32";
    convert_hf_to_gguf(convert_golden("llama"), dir / "m.gguf", options);
    const GgufFile f = GgufFile::open(dir / "m.gguf");
    const auto cfg = load_json(convert_golden("llama/config.json"));
    const uint32_t n_embd = cfg["hidden_size"], n_head = cfg["num_attention_heads"], n_kv = cfg["num_key_value_heads"];
    const uint32_t hd = n_embd / n_head;
    // Source rows from the checkpoint (f32).
    const auto src_file = convert_golden("llama/model.safetensors");
    const auto* q = f.contents().find_tensor("blk.0.attn_k.weight");
    ASSERT_NE(q, nullptr);
    std::ifstream in(src_file, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
    uint64_t n_header = 0;
    std::memcpy(&n_header, bytes.data(), 8);
    const auto header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + long(n_header));
    const auto& info = header["model.layers.0.self_attn.k_proj.weight"];
    const uint64_t begin = info["data_offsets"][0];
    const float* hf = reinterpret_cast<const float*>(bytes.data() + 8 + n_header + begin);  // [n_kv*hd, n_embd]
    const auto gg = f.tensor_data(*q);
    const float* out = reinterpret_cast<const float*>(gg.data());                            // [n_kv*hd, n_embd]
    for (uint32_t h = 0; h < n_kv; ++h)
        for (uint32_t i = 0; i < hd / 2; ++i)
            for (uint32_t s = 0; s < 2; ++s)
                for (uint32_t c = 0; c < n_embd; ++c)
                    ASSERT_EQ(out[(h * hd + 2 * i + s) * n_embd + c], hf[(h * hd + s * hd / 2 + i) * n_embd + c]);
}

}  // namespace
}  // namespace llcuda::test
