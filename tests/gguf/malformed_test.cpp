// Malformed and truncated GGUF images must fail with an llcuda::Error that names the problem and
// its offset — never a crash, a hang or a huge allocation.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include <gtest/gtest.h>

#include "gguf/byte_builder.h"
#include "llcuda/error.h"
#include "llcuda/gguf.h"
#include "temp_dir.h"

namespace llcuda {
namespace {

using test::ByteBuilder;

// Parses `bytes` and returns the error it raised; fails the test when parsing succeeds.
Error parse_error(const std::vector<uint8_t>& bytes) {
    try {
        parse_gguf(bytes, "test");
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "parsing succeeded but should have failed";
    return Error(ErrorKind::Internal, "");
}

#define EXPECT_PARSE_ERROR(bytes, kind_, fragment)                                                \
    do {                                                                                          \
        const Error e = parse_error(bytes);                                                       \
        EXPECT_EQ(e.kind(), ErrorKind::kind_) << e.what();                                        \
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();           \
        EXPECT_NE(std::string(e.what()).find("at offset"), std::string::npos) << e.what();        \
    } while (0)

// A small valid file written by GgufWriter: several value types, arrays and three tensors.
std::vector<uint8_t> sample_file() {
    GgufWriter w;
    w.set("general.architecture", GgufValue::string("llama"));
    w.set("llama.block_count", GgufValue::u32(2));
    w.set("llama.rope.freq_base", GgufValue::f32(10000.0f));
    w.set("tokenizer.ggml.tokens", GgufValue::string_array({"<s>", "</s>", "hello", "▁world"}));
    const int32_t types[] = {3, 3, 1, 1};
    w.set("tokenizer.ggml.token_type", GgufValue::numeric_array<int32_t>(GgufType::Int32, types));
    w.set("general.flag", GgufValue::boolean(true));
    static std::vector<uint8_t> f32_data(4 * 8, 1), q4_data(18 * 2, 2), q8_data(34 * 4, 3);
    const uint64_t ne_a[] = {8}, ne_b[] = {32, 2}, ne_c[] = {64, 2};
    w.add_tensor("a", GgmlType::F32, ne_a, f32_data);
    w.add_tensor("b", GgmlType::Q4_0, ne_b, q4_data);
    w.add_tensor("c", GgmlType::Q8_0, ne_c, q8_data);
    const test::TempDir dir;
    const auto path = dir / "sample.gguf";
    w.write(path);
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::filesystem::remove(path);
    return bytes;
}

TEST(GgufMalformed, EveryTruncationFailsWithAnError) {
    const std::vector<uint8_t> bytes = sample_file();
    const GgufContents full = parse_gguf(bytes);
    const auto& last = full.tensors.back();
    const uint64_t needed = full.data_offset + last.offset + last.n_bytes;  // trailing padding is optional
    for (size_t n = 0; n < bytes.size(); ++n) {
        const std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + n);
        if (n < needed) {
            EXPECT_THROW(parse_gguf(prefix), Error) << "prefix of " << n << " bytes";
        } else {
            EXPECT_NO_THROW(parse_gguf(prefix)) << "prefix of " << n << " bytes";
        }
    }
}

TEST(GgufMalformed, RandomByteCorruptionNeverEscapesAsAnythingButError) {
    const std::vector<uint8_t> bytes = sample_file();
    std::mt19937 rng(1234);
    int n_rejected = 0;
    for (int iteration = 0; iteration < 20000; ++iteration) {
        std::vector<uint8_t> mutated = bytes;
        const int n_flips = 1 + int(rng() % 4);
        for (int f = 0; f < n_flips; ++f) mutated[rng() % mutated.size()] = uint8_t(rng());
        try {
            parse_gguf(mutated);
        } catch (const Error&) {
            ++n_rejected;
        }
    }
    EXPECT_GT(n_rejected, 0);  // corruption of headers must be noticed at least sometimes
}

TEST(GgufMalformed, HeaderProblems) {
    EXPECT_PARSE_ERROR(ByteBuilder().put<uint32_t>(0x12345678).put<uint32_t>(3).bytes, FormatError, "not a GGUF file");
    EXPECT_PARSE_ERROR(ByteBuilder().header(1, 0, 0).bytes, Unsupported, "version 1 is not supported");
    EXPECT_PARSE_ERROR(ByteBuilder().header(4, 0, 0).bytes, Unsupported, "version 4");
    EXPECT_PARSE_ERROR(ByteBuilder().header(0x03000000, 0, 0).bytes, Unsupported, "big-endian");
    EXPECT_PARSE_ERROR(ByteBuilder().header(3, -1, 0).bytes, FormatError, "negative tensor count");
    EXPECT_PARSE_ERROR(ByteBuilder().header(3, 0, -5).bytes, FormatError, "negative metadata count");
    EXPECT_PARSE_ERROR(ByteBuilder().header(3, 0, int64_t(1) << 60).bytes, FormatError, "cannot fit");
    EXPECT_PARSE_ERROR(ByteBuilder().header(3, int64_t(1) << 40, 0).bytes, FormatError, "cannot fit");
    EXPECT_PARSE_ERROR((std::vector<uint8_t>{'G', 'G'}), FormatError, "truncated");
}

TEST(GgufMalformed, VersionTwoIsAccepted) {
    const auto bytes = ByteBuilder().header(2, 0, 1).kv_u32("general.alignment", 64).bytes;
    const GgufContents c = parse_gguf(bytes);
    EXPECT_EQ(c.version, 2u);
    EXPECT_EQ(c.alignment, 64u);
}

TEST(GgufMalformed, MetadataProblems) {
    EXPECT_PARSE_ERROR(ByteBuilder().header(3, 0, 1).put<uint64_t>(uint64_t(1) << 62).zeros(64).bytes, FormatError,
                       "has length");
    EXPECT_PARSE_ERROR(ByteBuilder().header(3, 0, 1).str("").put<uint32_t>(4).put<uint32_t>(1).bytes, FormatError,
                       "is empty");
    EXPECT_PARSE_ERROR(ByteBuilder().header(3, 0, 2).kv_u32("a.b", 1).kv_u32("a.b", 2).bytes, FormatError,
                       "duplicate metadata key 'a.b'");
    EXPECT_PARSE_ERROR(ByteBuilder().header(3, 0, 1).str("k").put<uint32_t>(13).put<uint32_t>(0).bytes, FormatError,
                       "invalid value type 13");
    EXPECT_PARSE_ERROR(ByteBuilder().header(3, 0, 1).str("k").put<uint32_t>(9).put<uint32_t>(9).put<uint64_t>(1).bytes,
                       FormatError, "nested arrays");
    EXPECT_PARSE_ERROR(ByteBuilder().header(3, 0, 1).str("k").put<uint32_t>(9).put<uint32_t>(4).put<uint64_t>(1ull << 61)
                           .bytes,
                       FormatError, "cannot fit");
    EXPECT_PARSE_ERROR(ByteBuilder().header(3, 0, 1).str("k").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(1000)
                           .bytes,
                       FormatError, "cannot fit");
    EXPECT_PARSE_ERROR(ByteBuilder().header(3, 0, 1).str("k").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(2)
                           .str("ok").put<uint64_t>(999).bytes,
                       FormatError, "has length 999");
    EXPECT_PARSE_ERROR(ByteBuilder().header(3, 0, 1).str("general.alignment").put<uint32_t>(10).put<uint64_t>(32).bytes,
                       FormatError, "expected u32");
    EXPECT_PARSE_ERROR(ByteBuilder().header(3, 0, 1).kv_u32("general.alignment", 48).bytes, FormatError,
                       "not a power of two");
    EXPECT_PARSE_ERROR(ByteBuilder().header(3, 0, 1).kv_u32("general.alignment", 0).bytes, FormatError,
                       "not a power of two");
}

// One tensor-info record after a valid header with no metadata.
std::vector<uint8_t> one_tensor(std::vector<int64_t> ne, uint32_t type, uint64_t offset = 0, size_t data = 4096,
                                const std::string& name = "t") {
    ByteBuilder b;
    b.header(3, 1, 0).tensor(name, std::move(ne), type, offset).pad_to(32).zeros(data);
    return b.bytes;
}

TEST(GgufMalformed, TensorInfoProblems) {
    EXPECT_PARSE_ERROR(one_tensor({}, 0), FormatError, "has 0 dimensions");
    EXPECT_PARSE_ERROR(one_tensor({1, 1, 1, 1, 1}, 0), FormatError, "has 5 dimensions");
    EXPECT_PARSE_ERROR(one_tensor({4, -2}, 0), FormatError, "negative dimension");
    EXPECT_PARSE_ERROR(one_tensor({int64_t(1) << 40, int64_t(1) << 40}, 0), FormatError, "too many elements");
    EXPECT_PARSE_ERROR(one_tensor({32}, 4), Unsupported, "unknown ggml type 4");
    EXPECT_PARSE_ERROR(one_tensor({32}, 99), Unsupported, "unknown ggml type 99");
    EXPECT_PARSE_ERROR(one_tensor({33}, uint32_t(GgmlType::Q4_0)), FormatError, "not a multiple of the q4_0 block");
    EXPECT_PARSE_ERROR(one_tensor({8}, 0, 32), FormatError, "has data offset 32, expected 0");
    EXPECT_PARSE_ERROR(one_tensor({1024}, 0, 0, 100), FormatError, "truncated");
    EXPECT_PARSE_ERROR(one_tensor({8}, 0, 0, 4096, std::string(64, 'x')), FormatError, "at most 63");
    ByteBuilder dup;
    dup.header(3, 2, 0).tensor("w", {8}, 0, 0).tensor("w", {8}, 0, 32).pad_to(32).zeros(64);
    EXPECT_PARSE_ERROR(dup.bytes, FormatError, "duplicate tensor name 'w'");
    ByteBuilder gap;
    gap.header(3, 2, 0).tensor("a", {8}, 0, 0).tensor("b", {8}, 0, 64).pad_to(32).zeros(128);
    EXPECT_PARSE_ERROR(gap.bytes, FormatError, "tensor 'b' has data offset 64, expected 32");
}

TEST(GgufMalformed, OpeningAMissingOrEmptyFileIsAClearError) {
    try {
        GgufFile::open("/nonexistent/model.gguf");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::NotFound);
    }
    const test::TempDir dir;
    const auto empty = dir / "empty.gguf";
    { std::ofstream(empty).flush(); }
    EXPECT_THROW(GgufFile::open(empty), Error);
    std::filesystem::remove(empty);
}

}  // namespace
}  // namespace llcuda
