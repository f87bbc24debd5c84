#include "llcuda/gguf_summary.h"

#include <array>

#include <fmt/format.h>

namespace llcuda {

namespace {

std::string quote(const std::string& s, size_t max_chars) {
    std::string shown = s.size() > max_chars ? s.substr(0, max_chars) : s;
    std::string escaped;
    for (unsigned char ch : shown) {
        if (ch == '\n') escaped += "\\n";
        else if (ch == '\t') escaped += "\\t";
        else if (ch == '\r') escaped += "\\r";
        else if (ch == '"') escaped += "\\\"";
        else if (ch < 0x20) escaped += fmt::format("\\x{:02x}", ch);
        else escaped += char(ch);
    }
    if (s.size() > max_chars) return fmt::format("\"{}\"... ({} bytes)", escaped, s.size());
    return fmt::format("\"{}\"", escaped);
}

template <typename T>
T element(const GgufArray& a, uint64_t i) { return a.at<T>(i); }

std::string array_element(const GgufArray& a, uint64_t i, size_t max_chars) {
    switch (a.elem_type) {
        case GgufType::UInt8: return fmt::format("{}", element<uint8_t>(a, i));
        case GgufType::Int8: return fmt::format("{}", element<int8_t>(a, i));
        case GgufType::UInt16: return fmt::format("{}", element<uint16_t>(a, i));
        case GgufType::Int16: return fmt::format("{}", element<int16_t>(a, i));
        case GgufType::UInt32: return fmt::format("{}", element<uint32_t>(a, i));
        case GgufType::Int32: return fmt::format("{}", element<int32_t>(a, i));
        case GgufType::Float32: return fmt::format("{}", element<float>(a, i));
        case GgufType::Bool: return element<bool>(a, i) ? "true" : "false";
        case GgufType::String: return quote(a.strings[i], max_chars);
        case GgufType::UInt64: return fmt::format("{}", element<uint64_t>(a, i));
        case GgufType::Int64: return fmt::format("{}", element<int64_t>(a, i));
        case GgufType::Float64: return fmt::format("{}", element<double>(a, i));
        case GgufType::Array: break;
    }
    return "?";
}

nlohmann::json array_element_json(const GgufArray& a, uint64_t i) {
    switch (a.elem_type) {
        case GgufType::UInt8: return element<uint8_t>(a, i);
        case GgufType::Int8: return element<int8_t>(a, i);
        case GgufType::UInt16: return element<uint16_t>(a, i);
        case GgufType::Int16: return element<int16_t>(a, i);
        case GgufType::UInt32: return element<uint32_t>(a, i);
        case GgufType::Int32: return element<int32_t>(a, i);
        case GgufType::Float32: return element<float>(a, i);
        case GgufType::Bool: return element<bool>(a, i);
        case GgufType::String: return a.strings[i];
        case GgufType::UInt64: return element<uint64_t>(a, i);
        case GgufType::Int64: return element<int64_t>(a, i);
        case GgufType::Float64: return element<double>(a, i);
        case GgufType::Array: break;
    }
    return nullptr;
}

}  // namespace

std::string describe_value(const GgufValue& value, size_t max_elements, size_t max_chars) {
    return std::visit(
        [&](const auto& v) -> std::string {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>) {
                return quote(v, max_chars);
            } else if constexpr (std::is_same_v<T, GgufArray>) {
                std::string s = fmt::format("[{} x {}] [", gguf_type_name(v.elem_type), v.count);
                const uint64_t shown = std::min<uint64_t>(v.count, max_elements);
                for (uint64_t i = 0; i < shown; ++i) {
                    if (i) s += ", ";
                    s += array_element(v, i, 32);
                }
                if (shown < v.count) s += ", ...";
                return s + "]";
            } else if constexpr (std::is_same_v<T, bool>) {
                return v ? "true" : "false";
            } else {
                return fmt::format("{}", v);
            }
        },
        value.storage());
}

nlohmann::json value_to_json(const GgufValue& value, size_t max_elements) {
    return std::visit(
        [&](const auto& v) -> nlohmann::json {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, GgufArray>) {
                nlohmann::json values = nlohmann::json::array();
                const uint64_t shown = std::min<uint64_t>(v.count, max_elements);
                for (uint64_t i = 0; i < shown; ++i) values.push_back(array_element_json(v, i));
                return {{"type", "array"}, {"element_type", gguf_type_name(v.elem_type)}, {"count", v.count},
                        {"values", values}, {"truncated", shown < v.count}};
            } else {
                return v;
            }
        },
        value.storage());
}

std::string file_type_name(uint32_t file_type) {
    // llama_ftype ids (include/llama.h); gaps are ids llama.cpp removed.
    static const std::array<const char*, 42> kNames = {
        "all F32", "F16", "Q4_0", "Q4_1", nullptr, nullptr, nullptr, "Q8_0", "Q5_0", "Q5_1",
        "Q2_K - Medium", "Q3_K - Small", "Q3_K - Medium", "Q3_K - Large", "Q4_K - Small", "Q4_K - Medium",
        "Q5_K - Small", "Q5_K - Medium", "Q6_K", "IQ2_XXS - 2.0625 bpw", "IQ2_XS - 2.3125 bpw", "Q2_K - Small",
        "IQ3_XS - 3.3 bpw", "IQ3_XXS - 3.0625 bpw", "IQ1_S - 1.5625 bpw", "IQ4_NL - 4.5 bpw",
        "IQ3_S - 3.4375 bpw", "IQ3_S mix - 3.66 bpw", "IQ2_S - 2.5 bpw", "IQ2_M - 2.7 bpw",
        "IQ4_XS - 4.25 bpw", "IQ1_M - 1.75 bpw", "BF16", nullptr, nullptr, nullptr,
        "TQ1_0 - 1.69 bpw ternary", "TQ2_0 - 2.06 bpw ternary", "MXFP4 MoE", "NVFP4", "Q1_0", "Q2_0"};
    if (file_type < kNames.size() && kNames[file_type]) return kNames[file_type];
    return fmt::format("unknown ({})", file_type);
}

}  // namespace llcuda
