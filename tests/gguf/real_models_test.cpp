// llcuda's GGUF reader against the `gguf` package (llama.cpp's reader) on real published models:
// golden files from tests/oracles/gguf_golden.py record what the gguf package reads.
#include <zlib.h>

#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>

#include "golden_json.h"
#include "llcuda/gguf.h"
#include "temp_dir.h"
#include "test_paths.h"

namespace llcuda {
namespace {

uint32_t crc32_of(const void* data, uint64_t n) {
    uLong crc = crc32(0L, Z_NULL, 0);
    const auto* p = static_cast<const Bytef*>(data);
    while (n > 0) {  // zlib takes 32-bit lengths
        const uInt chunk = n > (1u << 30) ? (1u << 30) : uInt(n);
        crc = crc32(crc, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return uint32_t(crc);
}

// CRC-32 of the elements' on-disk encoding, as the oracle computes it.
uint32_t array_crc(const GgufArray& a) {
    if (a.elem_type != GgufType::String) return crc32_of(a.raw.data(), a.raw.size());
    std::vector<uint8_t> encoded;
    for (const auto& s : a.strings) {
        const uint64_t n = s.size();
        encoded.insert(encoded.end(), reinterpret_cast<const uint8_t*>(&n), reinterpret_cast<const uint8_t*>(&n) + 8);
        encoded.insert(encoded.end(), s.begin(), s.end());
    }
    return crc32_of(encoded.data(), encoded.size());
}

void expect_scalar_equal(const GgufValue& value, const nlohmann::json& expected, const std::string& key) {
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>) {
                EXPECT_EQ(v, expected.get<std::string>()) << key;
            } else if constexpr (std::is_same_v<T, bool>) {
                EXPECT_EQ(v, expected.get<bool>()) << key;
            } else if constexpr (std::is_same_v<T, float>) {
                EXPECT_EQ(v, float(expected.get<double>())) << key;
            } else if constexpr (std::is_same_v<T, double>) {
                EXPECT_EQ(v, expected.get<double>()) << key;
            } else if constexpr (std::is_same_v<T, GgufArray>) {
                ADD_FAILURE() << key << ": array where a scalar was expected";
            } else if constexpr (std::is_signed_v<T>) {
                EXPECT_EQ(int64_t(v), expected.get<int64_t>()) << key;
            } else {
                EXPECT_EQ(uint64_t(v), expected.get<uint64_t>()) << key;
            }
        },
        value.storage());
}

GgufValue array_element(const GgufArray& a, uint64_t i) {
    switch (a.elem_type) {
        case GgufType::UInt8: return GgufValue::u8(a.at<uint8_t>(i));
        case GgufType::Int8: return GgufValue::i8(a.at<int8_t>(i));
        case GgufType::UInt16: return GgufValue::u16(a.at<uint16_t>(i));
        case GgufType::Int16: return GgufValue::i16(a.at<int16_t>(i));
        case GgufType::UInt32: return GgufValue::u32(a.at<uint32_t>(i));
        case GgufType::Int32: return GgufValue::i32(a.at<int32_t>(i));
        case GgufType::Float32: return GgufValue::f32(a.at<float>(i));
        case GgufType::Bool: return GgufValue::boolean(a.at<bool>(i));
        case GgufType::String: return GgufValue::string(a.strings[i]);
        case GgufType::UInt64: return GgufValue::u64(a.at<uint64_t>(i));
        case GgufType::Int64: return GgufValue::i64(a.at<int64_t>(i));
        case GgufType::Float64: return GgufValue::f64(a.at<double>(i));
        case GgufType::Array: break;
    }
    return {};
}

class RealModel : public ::testing::TestWithParam<std::pair<const char*, std::filesystem::path (*)()>> {};

TEST_P(RealModel, ReadsExactlyAsTheGgufPackage) {
    const auto [label, path_fn] = GetParam();
    const std::filesystem::path path = path_fn();
    LLCUDA_REQUIRE_FILE(path);
    const nlohmann::json golden = test::load_json(test::golden_dir() / "gguf" / (std::string(label) + ".json"));
    const GgufFile file = GgufFile::open(path);
    const GgufContents& c = file.contents();

    EXPECT_EQ(file.file_size(), golden["file_size"].get<uint64_t>());
    EXPECT_EQ(c.version, golden["version"].get<uint32_t>());
    EXPECT_EQ(c.alignment, golden["alignment"].get<uint32_t>());
    EXPECT_EQ(c.data_offset, golden["data_offset"].get<uint64_t>());

    const auto& metadata = golden["metadata"];
    ASSERT_EQ(c.kvs.size(), metadata.size());
    for (size_t i = 0; i < c.kvs.size(); ++i) {
        const auto& expected = metadata[i];
        const GgufKv& kv = c.kvs[i];
        const std::string key = expected["key"];
        ASSERT_EQ(kv.key, key) << "metadata order differs at #" << i;
        EXPECT_EQ(gguf_type_name(kv.value.type()), expected["type"].get<std::string>()) << key;
        if (kv.value.type() != GgufType::Array) {
            expect_scalar_equal(kv.value, expected["value"], key);
            continue;
        }
        const auto& array = std::get<GgufArray>(kv.value.storage());
        EXPECT_EQ(gguf_type_name(array.elem_type), expected["element_type"].get<std::string>()) << key;
        EXPECT_EQ(array.count, expected["count"].get<uint64_t>()) << key;
        EXPECT_EQ(array_crc(array), expected["crc32"].get<uint32_t>()) << key;
        const auto& head = expected["head"];
        for (size_t j = 0; j < head.size(); ++j) expect_scalar_equal(array_element(array, j), head[j], key);
    }

    const auto& tensors = golden["tensors"];
    ASSERT_EQ(c.tensors.size(), tensors.size());
    for (size_t i = 0; i < c.tensors.size(); ++i) {
        const GgufTensorInfo& t = c.tensors[i];
        const auto& expected = tensors[i];
        const std::string name = expected["name"];
        ASSERT_EQ(t.name, name) << "tensor order differs at #" << i;
        EXPECT_EQ(uint32_t(t.type), expected["type"].get<uint32_t>()) << name;
        const auto ne = expected["ne"].get<std::vector<uint64_t>>();
        ASSERT_EQ(t.n_dims, ne.size()) << name;
        for (size_t d = 0; d < ne.size(); ++d) EXPECT_EQ(t.ne[d], ne[d]) << name << " dim " << d;
        EXPECT_EQ(t.offset, expected["offset"].get<uint64_t>()) << name;
        EXPECT_EQ(t.n_bytes, expected["n_bytes"].get<uint64_t>()) << name;
        const auto data = file.tensor_data(t);
        EXPECT_EQ(crc32_of(data.data(), data.size()), expected["crc32"].get<uint32_t>()) << name;
    }
}

TEST_P(RealModel, WritingItBackGivesIdenticalBytes) {
    const auto [label, path_fn] = GetParam();
    const std::filesystem::path path = path_fn();
    LLCUDA_REQUIRE_FILE(path);
    const GgufFile original = GgufFile::open(path);
    const test::TempDir dir;
    const auto out = dir / (std::string("roundtrip-") + label + ".gguf");
    GgufWriter::copy_of(original).write(out);
    {
        const GgufFile copy = GgufFile::open(out);
        ASSERT_EQ(copy.file_size(), original.file_size());
        std::ifstream a(path, std::ios::binary), b(out, std::ios::binary);
        std::vector<char> buf_a(1 << 20), buf_b(1 << 20);
        uint64_t position = 0;
        while (a && b) {
            a.read(buf_a.data(), buf_a.size());
            b.read(buf_b.data(), buf_b.size());
            ASSERT_EQ(a.gcount(), b.gcount());
            ASSERT_EQ(std::memcmp(buf_a.data(), buf_b.data(), size_t(a.gcount())), 0)
                << "bytes differ in the MiB starting at " << position;
            position += uint64_t(a.gcount());
        }
        EXPECT_EQ(position, original.file_size());
    }
    std::filesystem::remove(out);
}

INSTANTIATE_TEST_SUITE_P(Models, RealModel,
                         ::testing::Values(std::make_pair("smollm2", &test::smollm2_path),
                                           std::make_pair("gemma3", &test::gemma3_path)),
                         [](const auto& info) { return std::string(info.param.first); });

}  // namespace
}  // namespace llcuda
