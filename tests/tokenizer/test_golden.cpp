// Every golden input, for every tokenizer, loaded from its original source, from its GGUF
// vocabulary view, and from a GGUF file written from that view: ids and decoded text must equal
// what HF `tokenizers` gave.
// Each test prints its mismatch count; the first few mismatches are shown in full.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

#include "golden_io.h"
#include "llcuda/error.h"

namespace llcuda::test {
namespace {

struct Param {
    size_t source;
    LoadMode mode;
};

const char* mode_suffix(LoadMode m) {
    return m == LoadMode::Source ? "" : m == LoadMode::ViaVocabulary ? "_via_vocabulary" : "_via_gguf_file";
}

std::string param_name(const testing::TestParamInfo<Param>& info) {
    return golden_sources()[info.param.source].name + mode_suffix(info.param.mode);
}

std::string ids_str(const std::vector<int32_t>& ids) {
    std::string s = "[";
    for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
    return s + "]";
}

class TokenizerGolden : public testing::TestWithParam<Param> {
protected:
    void SetUp() override {
        src_ = golden_sources()[GetParam().source];
        LLCUDA_REQUIRE_SOURCE(src_);
        LLCUDA_REQUIRE_TEST_DATA(austen_path());
        tok_ = &golden_tokenizer(src_, GetParam().mode);
    }
    std::string label() const { return src_.name + mode_suffix(GetParam().mode); }
    void report(const char* what, size_t mismatches, size_t total) const {
        std::printf("[golden] %-28s %-14s %zu mismatches of %zu\n", label().c_str(), what, mismatches, total);
    }

    GoldenSource src_;
    const Tokenizer* tok_ = nullptr;
};

TEST_P(TokenizerGolden, EdgeCases) {
    const auto cases = read_jsonl(golden_dir() / "tokenizer" / (src_.name + ".edge.jsonl"));
    ASSERT_GT(cases.size(), 50u);
    size_t mismatches = 0, shown = 0;
    auto check = [&](bool ok, const std::string& what, const std::string& input, const std::string& got,
                     const std::string& want) {
        if (ok) return;
        ++mismatches;
        if (shown++ < 8) ADD_FAILURE() << label() << " " << what << " for input \"" << input << "\"\n  got  " << got << "\n  want " << want;
    };
    for (const auto& c : cases) {
        const std::string raw = from_hex(c["input_hex"].get<std::string>());
        const bool valid = c["valid_utf8"].get<bool>();
        EncodeOptions opt;
        if (!valid) {
            bool threw = false;
            try { (void)tok_->encode(raw, opt); } catch (const Error& e) { threw = e.kind() == ErrorKind::InvalidArgument; }
            check(threw, "strict encode of invalid UTF-8 did not throw", raw, "", "");
            opt.replace_invalid_utf8 = true;
        }
        const auto ids = c["ids"].get<std::vector<int32_t>>();
        const auto got = tok_->encode(raw, opt);
        check(got == ids, "ids", raw, ids_str(got), ids_str(ids));
        EncodeOptions plain = opt;
        plain.add_special = false;
        const auto got_plain = tok_->encode(raw, plain);
        check(got_plain == c["ids_plain"].get<std::vector<int32_t>>(), "ids without BOS/EOS", raw, ids_str(got_plain),
              ids_str(c["ids_plain"].get<std::vector<int32_t>>()));
        EncodeOptions nospecial = opt;
        nospecial.parse_special = false;
        const auto got_ns = tok_->encode(raw, nospecial);
        check(got_ns == c["ids_nospecial"].get<std::vector<int32_t>>(), "ids with specials as text", raw,
              ids_str(got_ns), ids_str(c["ids_nospecial"].get<std::vector<int32_t>>()));
        const std::string dec = tok_->decode(ids);
        check(dec == c["decoded"].get<std::string>(), "decode", raw, dec, c["decoded"].get<std::string>());
        const std::string dec_skip = tok_->decode(ids, {.skip_special = true});
        check(dec_skip == c["decoded_skip"].get<std::string>(), "decode skipping specials", raw, dec_skip,
              c["decoded_skip"].get<std::string>());
    }
    report("edge", mismatches, cases.size());
    EXPECT_EQ(mismatches, 0u);
}

TEST_P(TokenizerGolden, SpecialIdsAsDeclared) {
    std::ifstream in(golden_dir() / "tokenizer" / (src_.name + ".meta.json"));
    const auto meta = nlohmann::json::parse(in);
    EXPECT_EQ(tok_->bos_id(), meta["bos"].get<int32_t>());
    EXPECT_EQ(tok_->eos_id(), meta["eos"].get<int32_t>());
    EXPECT_EQ(tok_->pad_id(), meta["pad"].get<int32_t>());
}

TEST_P(TokenizerGolden, RandomUnicodeStrings) {
    const auto cases = read_jsonl(golden_dir() / "tokenizer" / (src_.name + ".random.jsonl"));
    ASSERT_GE(cases.size(), 300u);
    size_t mismatches = 0;
    EncodeOptions nospecial;
    nospecial.parse_special = false;
    for (const auto& c : cases) {
        const std::string raw = from_hex(c["input_hex"].get<std::string>());
        const auto ids = tok_->encode(raw), ids_ns = tok_->encode(raw, nospecial);
        const std::string dec = tok_->decode(ids);
        const bool ok = ids == c["ids"].get<std::vector<int32_t>>() &&
                        ids_ns == c["ids_nospecial"].get<std::vector<int32_t>>() && dec == c["decoded"].get<std::string>();
        if (!ok && mismatches++ < 8)
            ADD_FAILURE() << label() << " input \"" << raw << "\"\n  got  " << ids_str(ids) << " " << ids_str(ids_ns) << " \""
                          << dec << "\"\n  want " << c["ids"].dump() << " " << c["ids_nospecial"].dump() << " "
                          << c["decoded"].dump();
    }
    report("random", mismatches, cases.size());
    EXPECT_EQ(mismatches, 0u);
}

TEST_P(TokenizerGolden, DecodeCases) {
    const auto cases = read_jsonl(golden_dir() / "tokenizer" / (src_.name + ".decode.jsonl"));
    ASSERT_GT(cases.size(), 400u);
    size_t mismatches = 0;
    for (const auto& c : cases) {
        const auto ids = c["ids"].get<std::vector<int32_t>>();
        const std::string dec = tok_->decode(ids), dec_skip = tok_->decode(ids, {.skip_special = true});
        const bool ok = dec == c["decoded"].get<std::string>() && dec_skip == c["decoded_skip"].get<std::string>();
        if (!ok && mismatches++ < 8)
            ADD_FAILURE() << label() << " decode " << ids_str(ids) << "\n  got  \"" << dec << "\" / \"" << dec_skip
                          << "\"\n  want \"" << c["decoded"].get<std::string>() << "\" / \""
                          << c["decoded_skip"].get<std::string>() << "\"";
    }
    report("decode", mismatches, cases.size());
    EXPECT_EQ(mismatches, 0u);
}

// Compares texts against "<n_ids> <fnv of ids> <'=' | fnv of decoded>" lines.
void compare_hashes(const Tokenizer& tok, const std::vector<std::string>& texts, const std::filesystem::path& golden,
                    const std::string& label, size_t& mismatches) {
    const auto lines = read_lines(golden);
    ASSERT_EQ(lines.size(), texts.size()) << golden;
    EncodeOptions opt;
    opt.add_special = false;
    size_t shown = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
        const auto ids = tok.encode(texts[i], opt);
        const std::string dec = tok.decode(ids);
        char want_ids[64];
        std::snprintf(want_ids, sizeof want_ids, "%zu %016llx ", ids.size(), static_cast<unsigned long long>(fnv_ids(ids)));
        std::string want = lines[i];
        const bool ids_ok = want.compare(0, std::strlen(want_ids), want_ids) == 0;
        const std::string dec_field = want.substr(want.rfind(' ') + 1);
        char dec_hash[32];
        std::snprintf(dec_hash, sizeof dec_hash, "%016llx", static_cast<unsigned long long>(fnv_bytes(dec)));
        const bool dec_ok = dec_field == "=" ? dec == texts[i] : dec_field == dec_hash;
        if (ids_ok && dec_ok) continue;
        ++mismatches;
        if (shown++ < 5)
            ADD_FAILURE() << label << " line " << i << " \"" << texts[i].substr(0, 200) << "\": got " << want_ids
                          << (dec_ok ? "" : "(decode differs) ") << ids_str(ids) << ", want " << want;
    }
}

TEST_P(TokenizerGolden, AustenLines) {
    const auto lines = austen_lines();
    size_t mismatches = 0;
    compare_hashes(*tok_, lines, golden_dir() / "tokenizer" / (src_.name + ".austen.txt"), label(), mismatches);
    report("austen lines", mismatches, lines.size());
    EXPECT_EQ(mismatches, 0u);
}

TEST_P(TokenizerGolden, AustenBlocksOf64Lines) {
    const auto lines = austen_lines();
    std::vector<std::string> blocks;
    for (size_t i = 0; i < lines.size(); i += 64) {
        std::string b;
        for (size_t k = i; k < std::min(lines.size(), i + 64); ++k) b += (k > i ? "\n" : "") + lines[k];
        blocks.push_back(std::move(b));
    }
    size_t mismatches = 0;
    compare_hashes(*tok_, blocks, golden_dir() / "tokenizer" / (src_.name + ".blocks.txt"), label(), mismatches);
    report("austen blocks", mismatches, blocks.size());
    EXPECT_EQ(mismatches, 0u);
}

std::vector<Param> all_params() {
    std::vector<Param> out;
    for (LoadMode mode : {LoadMode::Source, LoadMode::ViaVocabulary, LoadMode::ViaGgufFile})
        for (size_t i = 0; i < golden_sources().size(); ++i) out.push_back({i, mode});
    return out;
}

INSTANTIATE_TEST_SUITE_P(All, TokenizerGolden, testing::ValuesIn(all_params()), param_name);

}  // namespace
}  // namespace llcuda::test
