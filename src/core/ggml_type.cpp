#include "llcuda/ggml_type.h"

#include <array>
#include <cctype>

#include <fmt/format.h>

#include "llcuda/error.h"

namespace llcuda {

namespace {

// Block geometry of every type id that can appear in a GGUF file (docs/quant.md, table 2.1).
constexpr std::array<GgmlTypeInfo, 36> kTypes{{
    {GgmlType::F32, "f32", 1, 4},         {GgmlType::F16, "f16", 1, 2},
    {GgmlType::Q4_0, "q4_0", 32, 18},     {GgmlType::Q4_1, "q4_1", 32, 20},
    {GgmlType::Q5_0, "q5_0", 32, 22},     {GgmlType::Q5_1, "q5_1", 32, 24},
    {GgmlType::Q8_0, "q8_0", 32, 34},     {GgmlType::Q8_1, "q8_1", 32, 36},
    {GgmlType::Q2_K, "q2_K", 256, 84},    {GgmlType::Q3_K, "q3_K", 256, 110},
    {GgmlType::Q4_K, "q4_K", 256, 144},   {GgmlType::Q5_K, "q5_K", 256, 176},
    {GgmlType::Q6_K, "q6_K", 256, 210},   {GgmlType::Q8_K, "q8_K", 256, 292},
    {GgmlType::IQ2_XXS, "iq2_xxs", 256, 66}, {GgmlType::IQ2_XS, "iq2_xs", 256, 74},
    {GgmlType::IQ3_XXS, "iq3_xxs", 256, 98}, {GgmlType::IQ1_S, "iq1_s", 256, 50},
    {GgmlType::IQ4_NL, "iq4_nl", 32, 18}, {GgmlType::IQ3_S, "iq3_s", 256, 110},
    {GgmlType::IQ2_S, "iq2_s", 256, 82},  {GgmlType::IQ4_XS, "iq4_xs", 256, 136},
    {GgmlType::I8, "i8", 1, 1},           {GgmlType::I16, "i16", 1, 2},
    {GgmlType::I32, "i32", 1, 4},         {GgmlType::I64, "i64", 1, 8},
    {GgmlType::F64, "f64", 1, 8},         {GgmlType::IQ1_M, "iq1_m", 256, 56},
    {GgmlType::BF16, "bf16", 1, 2},       {GgmlType::TQ1_0, "tq1_0", 256, 54},
    {GgmlType::TQ2_0, "tq2_0", 256, 66},  {GgmlType::MXFP4, "mxfp4", 32, 17},
    {GgmlType::NVFP4, "nvfp4", 64, 36},   {GgmlType::Q1_0, "q1_0", 128, 18},
    {GgmlType::Q2_0, "q2_0", 64, 18},     {GgmlType::F32, nullptr, 0, 0},
}};

constexpr std::array<const GgmlTypeInfo*, kGgmlTypeCount> build_index() {
    std::array<const GgmlTypeInfo*, kGgmlTypeCount> index{};
    for (const auto& info : kTypes) {
        if (info.name) index[uint32_t(info.type)] = &info;
    }
    return index;
}
constexpr auto kIndex = build_index();

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

}  // namespace

const GgmlTypeInfo* ggml_type_info(uint32_t id) { return id < kGgmlTypeCount ? kIndex[id] : nullptr; }

const GgmlTypeInfo& ggml_type_info(GgmlType type) {
    const GgmlTypeInfo* info = ggml_type_info(uint32_t(type));
    if (!info) throw Error(ErrorKind::InvalidArgument, fmt::format("invalid ggml type id {}", uint32_t(type)));
    return *info;
}

std::optional<GgmlType> ggml_type_from_name(std::string_view name) {
    for (const auto& info : kTypes) {
        if (info.name && iequals(info.name, name)) return info.type;
    }
    return std::nullopt;
}

uint64_t ggml_row_bytes(GgmlType type, uint64_t n_elements) {
    const GgmlTypeInfo& info = ggml_type_info(type);
    if (n_elements % info.block_size != 0) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("{} elements are not a whole number of {} blocks of {}", n_elements, info.name,
                                info.block_size));
    }
    return n_elements / info.block_size * info.type_size;
}

}  // namespace llcuda
