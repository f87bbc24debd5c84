// Reading the golden files written by tests/oracles/tokenizer_golden.py (HF `tokenizers`), and the
// tokenizers they were made with. One place for the file formats so the oracle and the tests
// cannot drift apart.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include "llcuda/gguf.h"
#include "llcuda/tokenizer.h"
#include "test_paths.h"

namespace llcuda::test {

// FNV-1a 64 over ids as little-endian uint32 bytes / over raw bytes (fnv_ids / fnv_bytes in the oracle).
inline uint64_t fnv_ids(const std::vector<int32_t>& ids) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (int32_t id : ids)
        for (int shift = 0; shift < 32; shift += 8) h = (h ^ ((uint32_t(id) >> shift) & 0xFF)) * 0x100000001B3ull;
    return h;
}
inline uint64_t fnv_bytes(const std::string& s) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
    return h;
}

inline std::string from_hex(const std::string& hex) {
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
}

inline std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::vector<nlohmann::json> out;
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    return out;
}

inline std::vector<std::string> read_lines(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

inline std::filesystem::path austen_path() { return test_data_dir() / "corpus" / "austen.txt"; }

// The corpus split on "\n" exactly like Python's str.split("\n") (a trailing "" when the file
// ends with a newline). An unreadable or empty corpus throws (the test fails) rather than
// yielding one empty line that every comparison would trivially pass.
inline std::vector<std::string> austen_lines() {
    const auto path = austen_path();
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("cannot open test data " + path.string() +
                                 " (unpacked from tests/data by the build; run scripts/prepare-test-data.sh)");
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad() || all.empty()) throw std::runtime_error("cannot read test data " + path.string());
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t nl; (nl = all.find('\n', start)) != std::string::npos; start = nl + 1) out.push_back(all.substr(start, nl - start));
    out.push_back(all.substr(start));
    return out;
}

// The five golden tokenizers and where their source lives.
struct GoldenSource {
    std::string name;
    std::filesystem::path path;
    bool gguf;
};

inline std::vector<GoldenSource> golden_sources() {
    const auto tok = test_data_dir() / "tokenizers";
    return {
        {"llama3", tok / "llama3-instruct" / "tokenizer.json", false},
        {"qwen3", tok / "qwen3" / "tokenizer.json", false},
        {"mistral", tok / "mistral-7b" / "tokenizer.json", false},
        {"smollm2", smollm2_path(), true},
        {"gemma3", gemma3_path(), true},
    };
}

// A tokenizer.json source is the repository's test data (always required); a GGUF source is a real
// model (skipped unless LLCUDA_REQUIRE_MODELS=1).
#define LLCUDA_REQUIRE_SOURCE(src)                 \
    do {                                           \
        if ((src).gguf)                            \
            LLCUDA_REQUIRE_FILE((src).path);       \
        else                                       \
            LLCUDA_REQUIRE_TEST_DATA((src).path);  \
    } while (0)

// How a golden tokenizer is obtained:
//   Source         from its tokenizer.json / GGUF file
//   ViaVocabulary  from_vocabulary(source.vocabulary()): the GGUF view, in memory
//   ViaGgufFile    the GGUF view written with GgufWriter to a file and read back with
//                  from_gguf_file: "convert, then read back"
enum class LoadMode { Source, ViaVocabulary, ViaGgufFile };

// Loading is slow for 150k-260k vocabularies; every test of one (source, mode) shares one instance.
inline const Tokenizer& golden_tokenizer(const GoldenSource& src, LoadMode mode) {
    static std::map<std::pair<std::string, LoadMode>, std::unique_ptr<Tokenizer>> cache;
    auto& slot = cache[{src.name, mode}];
    if (slot) return *slot;
    if (mode == LoadMode::Source) {
        slot = std::make_unique<Tokenizer>(src.gguf ? Tokenizer::from_gguf_file(src.path) : Tokenizer::from_hf_json_file(src.path));
    } else if (mode == LoadMode::ViaVocabulary) {
        slot = std::make_unique<Tokenizer>(Tokenizer::from_vocabulary(golden_tokenizer(src, LoadMode::Source).vocabulary()));
    } else {
        GgufWriter writer;
        writer.set("general.architecture", GgufValue::string("llama"));
        add_vocabulary_to_gguf(golden_tokenizer(src, LoadMode::Source).vocabulary(), writer);
        const auto path = std::filesystem::temp_directory_path() /
                          ("llcuda_tok_" + src.name + "_" + std::to_string(::getpid()) + ".gguf");
        writer.write(path);
        slot = std::make_unique<Tokenizer>(Tokenizer::from_gguf_file(path));
        std::filesystem::remove(path);
    }
    return *slot;
}

}  // namespace llcuda::test
