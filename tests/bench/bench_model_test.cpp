// Random-weight bench models: sizes and tensor types against llama.cpp's files of the same shapes,
// the same types as `llcuda quantize` gives a real model, valid data in every type, and a tiny
// model that the engine loads and runs.
#include <cmath>
#include <filesystem>
#include <map>
#include <unistd.h>

#include <gtest/gtest.h>

#include "bench/random_fill.h"
#include "llcuda/bench_model.h"
#include "llcuda/engine.h"
#include "llcuda/error.h"
#include "llcuda/gguf.h"
#include "llcuda/quantize.h"

namespace llcuda {
namespace {

namespace fs = std::filesystem;

double gib(uint64_t bytes) { return double(bytes) / double(1ull << 30); }

uint64_t planned_bytes(std::string_view shape, std::string_view type) {
    uint64_t total = 0;
    for (const auto& t : plan_bench_model(bench_shape(shape), type)) total += t.n_bytes;
    return total;
}

class TempDir {
public:
    TempDir() : path_(fs::temp_directory_path() / ("llcuda_bench_test_" + std::to_string(::getpid()))) {
        fs::create_directories(path_);
    }
    ~TempDir() { fs::remove_all(path_); }
    fs::path operator/(const std::string& name) const { return path_ / name; }

private:
    fs::path path_;
};

// Model sizes llama-bench printed for llama.cpp's files of these shapes (F16 from the converter,
// the rest from llama-quantize), to its two decimals.
TEST(BenchModelPlan, SizesMatchLlamaCppFilesOfTheSameShapes) {
    EXPECT_NEAR(gib(planned_bytes("llama3-8b", "Q4_K_M")), 4.58, 0.005);
    EXPECT_NEAR(gib(planned_bytes("llama3-8b", "Q4_0")), 4.33, 0.005);
    EXPECT_NEAR(gib(planned_bytes("llama3-8b", "Q8_0")), 7.95, 0.005);
    EXPECT_NEAR(gib(planned_bytes("llama3-8b", "F16")), 14.96, 0.005);
    EXPECT_NEAR(gib(planned_bytes("llama3.2-1b", "F16")), 2.30, 0.005);
    EXPECT_NEAR(double(planned_bytes("llama3.2-1b", "Q4_K_M")) / (1 << 20), 763, 0.5);
}

// llama.cpp's loader on a Llama-3-8B Q4_K_M: "type f32: 65 tensors, q4_K: 193, q6_K: 33".
TEST(BenchModelPlan, Llama3_8bQ4KMHasLlamaCppsTypeCounts) {
    std::map<GgmlType, int> count;
    uint64_t params = 0;
    for (const auto& t : plan_bench_model(bench_shape("llama3-8b"), "Q4_K_M")) {
        ++count[t.type];
        params += t.ne[0] * t.ne[1];
    }
    EXPECT_EQ(count[GgmlType::F32], 65);
    EXPECT_EQ(count[GgmlType::Q4_K], 193);
    EXPECT_EQ(count[GgmlType::Q6_K], 33);
    EXPECT_EQ(count.size(), 3u);
    EXPECT_EQ(params, 8030261248ull);  // Meta-Llama-3-8B's parameter count
}

TEST(BenchModelPlan, TiedShapeHasNoOutputAndBadNamesAreClearErrors) {
    for (const auto& t : plan_bench_model(bench_shape("llama3.2-1b"), "Q4_K_M")) {
        EXPECT_NE(t.name, "output.weight");
        if (t.name == "token_embd.weight") EXPECT_EQ(t.type, GgmlType::Q6_K);  // it is also the LM head
    }
    EXPECT_EQ(plan_bench_model(bench_shape("llama3.2-1b"), "F16").size(), 2u + 16u * 9u);
    try {
        bench_shape("llama9");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("llama3-8b"), std::string::npos) << e.what();
    }
    EXPECT_THROW(plan_bench_model(bench_shape("tiny"), "Q9_X"), Error);
    // A bare ggml type that is not a preset: every matrix gets it.
    for (const auto& t : plan_bench_model(bench_shape("tiny"), "IQ2_XS"))
        EXPECT_EQ(t.type, t.n_dims == 1 ? GgmlType::F32 : GgmlType::IQ2_XS) << t.name;
}

// Every type the filler writes decodes to finite values with the RMS of real weights.
TEST(BenchModelData, EveryTypeDecodesToFiniteRealisticValues) {
    int n_types = 0;
    for (uint32_t id = 0; id < kGgmlTypeCount; ++id) {
        const GgmlTypeInfo* info = ggml_type_info(id);
        if (!info || !bench::BlockFiller::supports(info->type)) continue;
        ++n_types;
        const bench::BlockFiller filler(info->type, {});
        const uint64_t n_blocks = 4096 / info->block_size * 16;
        std::vector<uint8_t> bytes(n_blocks * info->type_size);
        filler.fill(bytes.data(), n_blocks, 7);
        std::vector<float> values(n_blocks * info->block_size);
        dequantize(info->type, bytes, values);
        double sum = 0, sum_sq = 0;
        for (float v : values) {
            ASSERT_TRUE(std::isfinite(v)) << info->name;
            sum += v;
            sum_sq += double(v) * v;
        }
        const double n = double(values.size());
        EXPECT_NEAR(std::sqrt(sum_sq / n), 0.02, 0.004) << info->name;
        EXPECT_LT(std::abs(sum / n), 0.005) << info->name;  // centred: no large bias
    }
    EXPECT_GE(n_types, 20);  // F32, F16, BF16, the legacy and K-quants, IQ4, TQ, low-bit IQ
    EXPECT_THROW(bench::BlockFiller(GgmlType::MXFP4, {}), Error);
}

TEST(BenchModelData, NormGainsAreAroundOne) {
    const bench::BlockFiller filler(GgmlType::F32, {1.0f, 0.05f});
    std::vector<float> v(4096);
    filler.fill(reinterpret_cast<uint8_t*>(v.data()), v.size(), 3);
    double sum = 0;
    for (float x : v) {
        EXPECT_GT(x, 0.6f);
        EXPECT_LT(x, 1.4f);
        sum += x;
    }
    EXPECT_NEAR(sum / double(v.size()), 1.0, 0.01);
}

TEST(BenchModelFile, BytesDependOnTheSeedNotOnTheThreadCount) {
    TempDir dir;
    auto write = [&](const std::string& name, uint64_t seed, unsigned threads) {
        BenchModelOptions o;
        o.shape = "tiny";
        o.type = "Q4_K_M";
        o.seed = seed;
        o.n_threads = threads;
        write_bench_model(dir / name, o);
        return GgufFile::open(dir / name);
    };
    const GgufFile a = write("a.gguf", 5, 1), b = write("b.gguf", 5, 3), c = write("c.gguf", 6, 1);
    for (const auto& t : a.contents().tensors) {
        const auto da = a.tensor_data(t), db = b.tensor_data(t.name), dc = c.tensor_data(t.name);
        EXPECT_TRUE(std::equal(da.begin(), da.end(), db.begin(), db.end())) << t.name;
        EXPECT_FALSE(std::equal(da.begin(), da.end(), dc.begin(), dc.end())) << t.name;
    }
}

// A bench file of a preset has the tensors, order and types that `llcuda quantize` gives the F16
// bench file of the same shape (mix rules read from the file's own metadata there).
TEST(BenchModelFile, PresetTypesMatchLlcudaQuantize) {
    TempDir dir;
    BenchModelOptions o;
    o.shape = "tiny";
    o.type = "F16";
    write_bench_model(dir / "f16.gguf", o);
    for (const char* preset : {"Q4_K_M", "Q3_K_M", "Q2_K", "Q5_K_S", "IQ4_XS", "Q8_0"}) {
        SCOPED_TRACE(preset);
        ModelQuantizeParams qp;
        qp.file_type = preset;
        quantize_model(dir / "f16.gguf", dir / "quantized.gguf", qp);
        o.type = preset;
        write_bench_model(dir / "direct.gguf", o);
        const GgufFile q = GgufFile::open(dir / "quantized.gguf"), d = GgufFile::open(dir / "direct.gguf");
        ASSERT_EQ(q.contents().tensors.size(), d.contents().tensors.size());
        for (size_t i = 0; i < q.contents().tensors.size(); ++i) {
            const auto& tq = q.contents().tensors[i];
            const auto& td = d.contents().tensors[i];
            EXPECT_EQ(tq.name, td.name);
            EXPECT_EQ(tq.type, td.type) << tq.name << ": " << ggml_type_name(tq.type) << " vs " << ggml_type_name(td.type);
            EXPECT_EQ(tq.ne, td.ne) << tq.name;
        }
        EXPECT_EQ(q.contents().get_u32("general.file_type"), d.contents().get_u32("general.file_type"));
    }
}

TEST(BenchModelFile, EngineLoadsAndRunsTheTinyModel) {
    TempDir dir;
    BenchModelOptions o;
    o.shape = "tiny";
    o.type = "Q4_K_M";
    const BenchModelReport report = write_bench_model(dir / "tiny.gguf", o);
    EXPECT_EQ(report.file_bytes, fs::file_size(dir / "tiny.gguf"));
    EXPECT_EQ(report.n_tensors, 3u + 2u * 9u);

    InferenceEngine engine;
    LoadOptions load;
    load.backend = Backend::Cpu;
    load.context_length = 128;
    load.n_threads = 2;
    engine.load_model(dir / "tiny.gguf", load);
    const ModelInfo info = engine.model_info();
    EXPECT_EQ(info.architecture, "llama");
    EXPECT_EQ(info.n_vocab, 512u);
    EXPECT_EQ(info.n_parameters, report.n_parameters);

    // The synthetic vocabulary round-trips text and starts with BOS.
    const std::string text = "the bench model tokenizer";
    const auto ids = engine.tokenize(text);
    ASSERT_FALSE(ids.empty());
    EXPECT_EQ(ids[0], 512 - 16);  // <|begin_of_text|>
    EXPECT_EQ(engine.detokenize(std::vector<int32_t>(ids.begin() + 1, ids.end())), text);

    SamplingParams greedy;
    greedy.temperature = 0;
    greedy.max_tokens = 8;
    greedy.ignore_eos = true;
    const InferenceResult a = engine.infer_tokens(ids, greedy), b = engine.infer_tokens(ids, greedy);
    EXPECT_EQ(a.n_generated_tokens, 8u);
    EXPECT_EQ(a.tokens, b.tokens);  // finite logits: greedy is deterministic

    const BenchTimes t = engine.bench(16, 4, 8, 1);
    EXPECT_GT(t.prompt_ms, 0);
    EXPECT_GT(t.generate_ms, 0);
}

}  // namespace
}  // namespace llcuda
