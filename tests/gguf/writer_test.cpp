// GgufWriter: every value type survives a write/read cycle, layout rules hold, and a failure never
// leaves a half-written file behind.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "llcuda/error.h"
#include "llcuda/gguf.h"
#include "temp_dir.h"

namespace llcuda {
namespace {

namespace fs = std::filesystem;

// This process's own directory (one test per process under ctest), so parallel runs never collide.
const test::TempDir& temp_dir() {
    static const test::TempDir dir;
    return dir;
}

fs::path temp_path(const std::string& name) { return temp_dir() / ("llcuda-writer-" + name); }

// Files in our temp directory whose names start with `prefix` (to spot leftover temporaries).
size_t count_files_starting_with(const std::string& prefix) {
    size_t n = 0;
    for (const auto& entry : fs::directory_iterator(temp_dir().path())) {
        if (entry.path().filename().string().rfind(prefix, 0) == 0) ++n;
    }
    return n;
}

TEST(GgufWriter, EveryValueTypeRoundTrips) {
    GgufWriter w;
    w.set("u8", GgufValue::u8(250));
    w.set("i8", GgufValue::i8(-120));
    w.set("u16", GgufValue::u16(65000));
    w.set("i16", GgufValue::i16(-32000));
    w.set("u32", GgufValue::u32(4000000000u));
    w.set("i32", GgufValue::i32(-2000000000));
    w.set("f32", GgufValue::f32(3.25f));
    w.set("bool", GgufValue::boolean(true));
    w.set("string", GgufValue::string("héllo ▁ 世界"));
    w.set("empty", GgufValue::string(""));
    w.set("u64", GgufValue::u64(18000000000000000000ull));
    w.set("i64", GgufValue::i64(-9000000000000000000ll));
    w.set("f64", GgufValue::f64(-1.0 / 3.0));
    const float floats[] = {1.5f, -2.0f, 1e-30f};
    w.set("floats", GgufValue::numeric_array<float>(GgufType::Float32, floats));
    w.set("strings", GgufValue::string_array({"a", "", "ccc"}));
    w.set("no_strings", GgufValue::string_array({}));
    const fs::path path = temp_path("types.gguf");
    w.write(path);

    const GgufFile f = GgufFile::open(path);
    const GgufContents& c = f.contents();
    ASSERT_EQ(c.kvs.size(), 16u);
    EXPECT_EQ(std::get<uint8_t>(c.find("u8")->storage()), 250);
    EXPECT_EQ(std::get<int8_t>(c.find("i8")->storage()), -120);
    EXPECT_EQ(std::get<uint16_t>(c.find("u16")->storage()), 65000);
    EXPECT_EQ(std::get<int16_t>(c.find("i16")->storage()), -32000);
    EXPECT_EQ(c.get_u32("u32"), 4000000000u);
    EXPECT_EQ(c.get_i32("i32"), -2000000000);
    EXPECT_EQ(c.get_f32("f32"), 3.25f);
    EXPECT_TRUE(c.get_bool("bool"));
    EXPECT_EQ(c.get_string("string"), "héllo ▁ 世界");
    EXPECT_EQ(c.get_string("empty"), "");
    EXPECT_EQ(c.get_u64("u64"), 18000000000000000000ull);
    EXPECT_EQ(std::get<int64_t>(c.find("i64")->storage()), -9000000000000000000ll);
    EXPECT_EQ(std::get<double>(c.find("f64")->storage()), -1.0 / 3.0);
    EXPECT_EQ(c.get_array("floats").as<float>(), std::vector<float>(std::begin(floats), std::end(floats)));
    EXPECT_EQ(c.get_array("strings").strings, (std::vector<std::string>{"a", "", "ccc"}));
    EXPECT_EQ(c.get_array("no_strings").count, 0u);
    fs::remove(path);
}

TEST(GgufWriter, SettingAnExistingKeyKeepsItsPosition) {
    GgufWriter w;
    w.set("a", GgufValue::u32(1));
    w.set("b", GgufValue::u32(2));
    w.set("a", GgufValue::string("replaced"));
    const fs::path path = temp_path("order.gguf");
    w.write(path);
    const GgufFile f = GgufFile::open(path);
    ASSERT_EQ(f.contents().kvs.size(), 2u);
    EXPECT_EQ(f.contents().kvs[0].key, "a");
    EXPECT_EQ(f.contents().get_string("a"), "replaced");
    fs::remove(path);
}

TEST(GgufWriter, TensorsAreAlignedAndSequential) {
    for (uint32_t alignment : {32u, 64u, 256u}) {
        GgufWriter w;
        w.set_alignment(alignment);
        std::vector<uint8_t> a(4 * 3, 7), b(18 * 3, 9), c(2 * 5, 11);
        const uint64_t ne_a[] = {3}, ne_b[] = {32, 3}, ne_c[] = {5, 1, 1};
        w.add_tensor("a", GgmlType::F32, ne_a, a);
        w.add_tensor("b", GgmlType::Q4_0, ne_b, b);
        w.add_tensor("c", GgmlType::F16, ne_c, c, 3);
        const fs::path path = temp_path("aligned.gguf");
        w.write(path);
        const GgufFile f = GgufFile::open(path);
        const GgufContents& contents = f.contents();
        EXPECT_EQ(contents.alignment, alignment);
        EXPECT_EQ(contents.data_offset % alignment, 0u);
        ASSERT_EQ(contents.tensors.size(), 3u);
        EXPECT_EQ(contents.tensors[0].offset, 0u);
        EXPECT_EQ(contents.tensors[1].offset, alignment * ((12 + alignment - 1) / alignment));
        EXPECT_EQ(contents.tensors[2].n_dims, 3u);
        EXPECT_EQ(contents.tensors[1].n_dims, 2u);
        const auto data_b = f.tensor_data("b");
        EXPECT_TRUE(std::equal(data_b.begin(), data_b.end(), b.begin(), b.end()));
        // The file ends with the last tensor's padding, as ggml's and gguf-py's writers do.
        EXPECT_EQ(f.file_size() % alignment, 0u);
        fs::remove(path);
    }
}

TEST(GgufWriter, RejectsInvalidTensors) {
    GgufWriter w;
    std::vector<uint8_t> data(18);
    const uint64_t ne[] = {32}, bad_ne[] = {33};
    EXPECT_THROW(w.add_tensor("short", GgmlType::Q4_0, ne, std::span<const uint8_t>(data.data(), 17)), Error);
    EXPECT_THROW(w.add_tensor("bad", GgmlType::Q4_0, bad_ne, data), Error);
    EXPECT_THROW(w.add_tensor(std::string(64, 'n'), GgmlType::Q4_0, ne, data), Error);
    w.add_tensor("ok", GgmlType::Q4_0, ne, data);
    EXPECT_THROW(w.add_tensor("ok", GgmlType::Q4_0, ne, data), Error);
    EXPECT_THROW(w.set_alignment(48), Error);
    EXPECT_THROW(w.set("", GgufValue::u32(1)), Error);
}

TEST(GgufWriter, AFailedWriteLeavesNoFileAndKeepsTheOldOne) {
    const fs::path path = temp_path("atomic.gguf");
    { std::ofstream(path) << "previous contents"; }
    GgufWriter w;
    w.set("general.architecture", GgufValue::string("llama"));
    const uint64_t ne[] = {1024};
    w.add_tensor("t", GgmlType::F32, ne, GgufWriter::DataSource([](auto out) {
        std::vector<float> half(512, 1.0f);
        out(half.data(), half.size() * sizeof(float));
        throw Error(ErrorKind::Io, "simulated failure while producing tensor data");
    }));
    EXPECT_THROW(w.write(path), Error);
    std::ifstream in(path);
    std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(contents, "previous contents");
    EXPECT_EQ(count_files_starting_with("llcuda-writer-atomic.gguf.tmp"), 0u);
    fs::remove(path);
}

TEST(GgufWriter, ADataSourceWritingTheWrongSizeIsCaught) {
    GgufWriter w;
    const uint64_t ne[] = {8};
    w.add_tensor("t", GgmlType::F32, ne, GgufWriter::DataSource([](auto out) {
        const float x[4] = {};
        out(x, sizeof x);
    }));
    const fs::path path = temp_path("short.gguf");
    EXPECT_THROW(w.write(path), Error);
    EXPECT_FALSE(fs::exists(path));
}

TEST(GgufWriter, UnwritableDestinationIsAnIoError) {
    GgufWriter w;
    try {
        w.write("/nonexistent-dir/out.gguf");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Io);
        EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/out.gguf"), std::string::npos);
    }
}

}  // namespace
}  // namespace llcuda
