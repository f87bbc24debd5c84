// The llama-quantize mix planner against files llama-quantize actually produced: planning the
// tensors of the real models (names and shapes from their GGUF headers, as if every tensor were
// still F32) with the file type recorded in general.file_type must give exactly the types stored
// in the file. Gemma-3 (Q4_K_M) exercises use_more_bits on attn_v / ffn_down, tied embeddings and
// the shape fallbacks (640-wide rows: Q4_K -> Q5_0, Q6_K -> Q8_0); SmolLM2 (Q4_1) the tied
// output rule with its Q6_K -> Q8_0 fallback.
#include <gtest/gtest.h>

#include "llcuda/gguf.h"
#include "quant/mixes.h"
#include "test_paths.h"

namespace llcuda::test {
namespace {

void check_plan(const std::filesystem::path& path) {
    const GgufFile file = GgufFile::open(path);
    const GgufContents& c = file.contents();
    quant::ModelFacts facts;
    facts.arch = c.get_string("general.architecture");
    facts.n_layer = c.get_u32(facts.arch + ".block_count");
    facts.n_head = c.get_u32_or(facts.arch + ".attention.head_count", 0);
    facts.n_head_kv = c.get_u32_or(facts.arch + ".attention.head_count_kv", facts.n_head);
    const auto preset = quant::file_type_preset(std::to_string(c.get_u32("general.file_type")));
    ASSERT_TRUE(preset.has_value());

    std::vector<quant::PlanTensor> tensors;
    for (const auto& t : c.tensors) tensors.push_back({t.name, t.n_dims, t.ne, GgmlType::F32});
    const auto planned = quant::plan_tensor_types(tensors, *preset, facts, {});
    ASSERT_EQ(planned.size(), c.tensors.size());
    int checked = 0;
    for (size_t i = 0; i < planned.size(); ++i) {
        EXPECT_EQ(ggml_type_name(planned[i]), std::string(ggml_type_name(c.tensors[i].type))) << c.tensors[i].name;
        checked += planned[i] != GgmlType::F32;
    }
    EXPECT_GT(checked, 100);
}

TEST(QuantMixes, Gemma3Q4_K_MMatchesLlamaQuantize) {
    LLCUDA_REQUIRE_FILE(gemma3_path());
    check_plan(gemma3_path());
}

TEST(QuantMixes, SmolLM2Q4_1MatchesLlamaQuantize) {
    LLCUDA_REQUIRE_FILE(smollm2_path());
    check_plan(smollm2_path());
}

TEST(QuantMixes, PresetNames) {
    EXPECT_EQ(quant::file_type_preset("q4_k_m")->ftype, quant::FileType::MOSTLY_Q4_K_M);
    EXPECT_EQ(quant::file_type_preset("Q4_K")->ftype, quant::FileType::MOSTLY_Q4_K_M);
    EXPECT_EQ(quant::file_type_preset("15")->name, std::string("Q4_K_M"));
    EXPECT_EQ(quant::file_type_preset("IQ4_XS")->default_type, GgmlType::IQ4_XS);
    EXPECT_FALSE(quant::file_type_preset("Q9_K").has_value());
    EXPECT_FALSE(quant::file_type_preset("IQ2_XXS").has_value());  // needs an imatrix search we lack
}

TEST(QuantMixes, PureAndOverrides) {
    // Two layers of a toy llama: with --pure every eligible 2-D weight gets the default type;
    // overrides win; 1-D norms never change.
    std::vector<quant::PlanTensor> t = {
        {"token_embd.weight", 2, {256, 1000, 1, 1}, GgmlType::F16},
        {"output.weight", 2, {256, 1000, 1, 1}, GgmlType::F16},
        {"blk.0.attn_v.weight", 2, {256, 256, 1, 1}, GgmlType::F16},
        {"blk.0.attn_norm.weight", 1, {256, 1, 1, 1}, GgmlType::F32},
        {"blk.1.ffn_down.weight", 2, {512, 256, 1, 1}, GgmlType::F16},
        {"blk.1.ffn_gate_inp.weight", 2, {256, 8, 1, 1}, GgmlType::F32},
    };
    quant::ModelFacts facts{"llama", 2, 8, 8, 0};
    quant::PlanOptions pure;
    pure.pure = true;
    auto p = quant::plan_tensor_types(t, *quant::file_type_preset("Q4_K_M"), facts, pure);
    EXPECT_EQ(p, (std::vector<GgmlType>{GgmlType::Q4_K, GgmlType::Q4_K, GgmlType::Q4_K, GgmlType::F32,
                                        GgmlType::Q4_K, GgmlType::F32}));
    quant::PlanOptions over;
    over.output_type = GgmlType::Q8_0;
    over.token_embedding_type = GgmlType::Q5_K;
    p = quant::plan_tensor_types(t, *quant::file_type_preset("Q4_K_M"), facts, over);
    EXPECT_EQ(p[0], GgmlType::Q5_K);
    EXPECT_EQ(p[1], GgmlType::Q8_0);
    EXPECT_EQ(p[2], GgmlType::Q6_K);  // first attn_v: use_more_bits(0, 1)
    EXPECT_EQ(p[3], GgmlType::F32);
}

}  // namespace
}  // namespace llcuda::test
