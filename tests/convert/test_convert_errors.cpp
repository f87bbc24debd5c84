// Bad input is a clear llcuda::Error and leaves no output (nor temporary file) behind.
#include <cstring>
#include <fstream>

#include "convert_test_util.h"
#include "llcuda/convert.h"
#include "llcuda/error.h"

namespace llcuda::test {
namespace {

namespace fs = std::filesystem;

// Runs `fn`, expects an llcuda::Error of `kind` whose message contains `needle`, and checks the
// output directory holds nothing but what `keep` entries were there before.
template <typename Fn>
void expect_error(Fn fn, ErrorKind kind, const std::string& needle, const ScratchDir& out_dir, size_t keep = 0) {
    try {
        fn();
        ADD_FAILURE() << "no error (expected one mentioning '" << needle << "')";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), kind) << e.what();
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
    EXPECT_EQ(out_dir.n_entries(), keep) << "a failed conversion left files behind";
}

fs::path copy_model(const std::string& name, const fs::path& to) {
    fs::copy(convert_golden(name), to, fs::copy_options::recursive);
    return to;
}

void rewrite(const fs::path& p, const std::function<void(std::string&)>& edit) {
    std::ifstream in(p, std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(in)), {});
    in.close();
    edit(s);
    std::ofstream(p, std::ios::binary | std::ios::trunc) << s;
}

TEST(ConvertErrors, MissingDirectory) {
    ScratchDir out;
    expect_error([&] { convert_hf_to_gguf("/nonexistent/model", out / "m.gguf"); }, ErrorKind::NotFound,
                 "/nonexistent/model", out);
}

TEST(ConvertErrors, MissingFiles) {
    ScratchDir src, out;
    const auto m = copy_model("qwen3", src / "m");
    fs::remove(m / "tokenizer.json");
    expect_error([&] { convert_hf_to_gguf(m, out / "m.gguf"); }, ErrorKind::NotFound, "tokenizer.json", out);
    fs::remove(m / "model.safetensors");
    expect_error([&] { convert_hf_to_gguf(m, out / "m.gguf"); }, ErrorKind::NotFound, "safetensors", out);
    fs::remove(m / "config.json");
    expect_error([&] { convert_hf_to_gguf(m, out / "m.gguf"); }, ErrorKind::NotFound, "config.json", out);
}

TEST(ConvertErrors, MissingShard) {
    ScratchDir src, out;
    const auto m = copy_model("mistral", src / "m");
    fs::remove(m / "model-00003-of-00004.safetensors");
    expect_error([&] { convert_hf_to_gguf(m, out / "m.gguf"); }, ErrorKind::NotFound, "model-00003-of-00004", out);
}

TEST(ConvertErrors, BadShardIndex) {
    ScratchDir src, out;
    const auto m = copy_model("mistral", src / "m");
    // A shard listed twice under different names: the same tensors would come from two files.
    fs::remove(m / "model-00002-of-00004.safetensors");
    fs::copy_file(m / "model-00001-of-00004.safetensors", m / "model-00002-of-00004.safetensors");
    expect_error([&] { convert_hf_to_gguf(m, out / "m.gguf"); }, ErrorKind::FormatError, "more than one shard", out);
    // The index may only name files inside the checkpoint directory.
    rewrite(m / "model.safetensors.index.json", [](std::string& s) {
        const auto p = s.find("model-00003-of-00004.safetensors");
        s.replace(p, 32, "../../etc/passwd.safetensors....");
    });
    expect_error([&] { convert_hf_to_gguf(m, out / "m.gguf"); }, ErrorKind::FormatError, "shard name", out);
}

TEST(ConvertErrors, UnsupportedArchitecture) {
    ScratchDir src, out;
    const auto m = copy_model("llama", src / "m");
    rewrite(m / "config.json", [](std::string& s) { s.replace(s.find("LlamaForCausalLM"), 16, "GPTNeoXForCausalLM"); });
    expect_error([&] { convert_hf_to_gguf(m, out / "m.gguf"); }, ErrorKind::Unsupported, "GPTNeoXForCausalLM", out);
}

TEST(ConvertErrors, UnknownOutputType) {
    ScratchDir out;
    ConvertOptions o;
    o.out_type = "Q9_Z";
    expect_error([&] { convert_hf_to_gguf(convert_golden("llama"), out / "m.gguf", o); }, ErrorKind::InvalidArgument,
                 "Q9_Z", out);
}

// Corruptions of the safetensors header, each caught before anything is written.
struct Corruption {
    const char* what;
    std::function<void(std::string&)> edit;
    const char* needle;
};

TEST(ConvertErrors, CorruptSafetensorsHeader) {
    const std::vector<Corruption> cases = {
        {"header length past the end", [](std::string& s) { s[6] = char(0x7f); }, "header length"},
        {"truncated file", [](std::string& s) { s.resize(s.size() - 100); }, "data_offsets"},
        {"broken JSON", [](std::string& s) { s[8] = '['; s[9] = '}'; }, "JSON"},
        {"unknown dtype", [](std::string& s) { const auto p = s.find("\"F32\""); s.replace(p, 5, "\"Q32\""); }, "dtype"},
        {"trailing bytes", [](std::string& s) { s += "garbage!"; }, "trailing"},
        {"shape/size mismatch", [](std::string& s) { const auto p = s.find("[64,"); s.replace(p, 4, "[65,"); }, "bytes for shape"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.what);
        ScratchDir src, out;
        const auto m = copy_model("llama", src / "m");
        fs::permissions(m / "model.safetensors", fs::perms::owner_read | fs::perms::owner_write);
        rewrite(m / "model.safetensors", c.edit);
        expect_error([&] { convert_hf_to_gguf(m, out / "m.gguf"); }, ErrorKind::FormatError, c.needle, out);
    }
}

// An error found while tensors are already being streamed (a bnb weight whose code table is not
// NF4's) still leaves neither the output nor the temporary file.
TEST(ConvertErrors, FailureWhileWritingLeavesNothing) {
    ScratchDir src, out;
    const auto m = copy_model("llama_bnb4", src / "m");
    fs::permissions(m / "model.safetensors", fs::perms::owner_read | fs::perms::owner_write);
    rewrite(m / "model.safetensors", [](std::string& s) {
        // Layer 1's up_proj quant_map (a late tensor): find its data through the header.
        uint64_t n = 0;
        std::memcpy(&n, s.data(), 8);
        const auto header = nlohmann::json::parse(s.begin() + 8, s.begin() + 8 + long(n));
        const uint64_t begin = header["model.layers.1.mlp.up_proj.weight.quant_map"]["data_offsets"][0];
        const float bogus = 0.25f;
        std::memcpy(s.data() + 8 + n + begin, &bogus, 4);
    });
    ConvertOptions o;
    o.out_type = "F32";
    expect_error([&] { convert_hf_to_gguf(m, out / "m.gguf", o); }, ErrorKind::Unsupported, "quant_map", out);
}

TEST(ConvertErrors, AdapterForAnotherModel) {
    ScratchDir out;
    // qwen3's adapter targets q_proj/v_proj/up_proj with qwen3's shapes; llama's q_proj is smaller.
    expect_error([&] { export_lora(convert_golden("llama"), convert_golden("lora_qwen3"), out / "m.gguf"); },
                 ErrorKind::FormatError, "delta", out);
    // The same for a GGUF base.
    ConvertOptions o;
    o.out_type = "F32";
    convert_hf_to_gguf(convert_golden("llama"), out / "base.gguf", o);
    expect_error([&] { export_lora(out / "base.gguf", convert_golden("lora_qwen3"), out / "m.gguf"); },
                 ErrorKind::FormatError, "delta", out, 1);
}

TEST(ConvertErrors, MissingAdapterFiles) {
    ScratchDir src, out;
    fs::copy(convert_golden("lora_llama"), src / "a", fs::copy_options::recursive);
    fs::remove(src / "a" / "adapter_model.safetensors");
    expect_error([&] { export_lora(convert_golden("llama"), src / "a", out / "m.gguf"); }, ErrorKind::NotFound,
                 "adapter_model.safetensors", out);
    fs::remove(src / "a" / "adapter_config.json");
    expect_error([&] { export_lora(convert_golden("llama"), src / "a", out / "m.gguf"); }, ErrorKind::NotFound,
                 "adapter_config.json", out);
}

}  // namespace
}  // namespace llcuda::test
