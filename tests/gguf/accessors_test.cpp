// Typed metadata accessors: right values, and errors that name the key and both types.
#include <gtest/gtest.h>

#include "gguf/byte_builder.h"
#include "llcuda/error.h"
#include "llcuda/gguf.h"

namespace llcuda {
namespace {

GgufContents sample() {
    test::ByteBuilder b;
    b.header(3, 0, 4).kv_u32("llama.block_count", 30);
    b.str("llama.rope.freq_base").put<uint32_t>(6).put<float>(500000.0f);
    b.str("tokenizer.ggml.model").put<uint32_t>(8).str("gpt2");
    b.str("ids").put<uint32_t>(9).put<uint32_t>(5).put<uint64_t>(3).put<int32_t>(-1).put<int32_t>(0).put<int32_t>(7);
    return parse_gguf(b.bytes);
}

TEST(GgufAccessors, ReturnStoredValues) {
    const GgufContents c = sample();
    EXPECT_EQ(c.get_u32("llama.block_count"), 30u);
    EXPECT_EQ(c.get_f32("llama.rope.freq_base"), 500000.0f);
    EXPECT_EQ(c.get_string("tokenizer.ggml.model"), "gpt2");
    EXPECT_EQ(c.get_array("ids").as<int32_t>(), (std::vector<int32_t>{-1, 0, 7}));
    EXPECT_EQ(c.get_array("ids").at<int32_t>(2), 7);
    EXPECT_EQ(c.get_integer("llama.block_count"), 30);
    EXPECT_EQ(c.get_u32_or("missing", 11), 11u);
    EXPECT_EQ(c.get_string_or("missing", "x"), "x");
    EXPECT_TRUE(c.get_bool_or("missing", true));
}

TEST(GgufAccessors, WrongTypeNamesKeyAndBothTypes) {
    const GgufContents c = sample();
    try {
        c.get_u32("llama.rope.freq_base");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
        EXPECT_STREQ(e.what(), "metadata key 'llama.rope.freq_base' has type f32, expected u32");
    }
    EXPECT_THROW(c.get_string("llama.block_count"), Error);
    EXPECT_THROW(c.get_array("ids").as<uint32_t>(), Error);
    EXPECT_THROW(c.get_array("ids").at<int32_t>(3), Error);
    EXPECT_THROW(c.get_integer("tokenizer.ggml.model"), Error);
    EXPECT_THROW(c.get_u32_or("tokenizer.ggml.model", 1), Error);  // present with the wrong type is an error
}

TEST(GgufAccessors, MissingKeyIsNotFound) {
    const GgufContents c = sample();
    try {
        c.get_u32("llama.context_length");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::NotFound);
        EXPECT_NE(std::string(e.what()).find("llama.context_length"), std::string::npos);
    }
}

}  // namespace
}  // namespace llcuda
