// Maps C++ scalar types to GGUF value type ids.
#pragma once

#include <cstdint>
#include <type_traits>

#include "llcuda/gguf.h"

namespace llcuda {

template <typename T>
constexpr GgufType gguf_type_of() {
    if constexpr (std::is_same_v<T, uint8_t>) return GgufType::UInt8;
    else if constexpr (std::is_same_v<T, int8_t>) return GgufType::Int8;
    else if constexpr (std::is_same_v<T, uint16_t>) return GgufType::UInt16;
    else if constexpr (std::is_same_v<T, int16_t>) return GgufType::Int16;
    else if constexpr (std::is_same_v<T, uint32_t>) return GgufType::UInt32;
    else if constexpr (std::is_same_v<T, int32_t>) return GgufType::Int32;
    else if constexpr (std::is_same_v<T, float>) return GgufType::Float32;
    else if constexpr (std::is_same_v<T, bool>) return GgufType::Bool;
    else if constexpr (std::is_same_v<T, uint64_t>) return GgufType::UInt64;
    else if constexpr (std::is_same_v<T, int64_t>) return GgufType::Int64;
    else if constexpr (std::is_same_v<T, double>) return GgufType::Float64;
    else static_assert(sizeof(T) == 0, "not a GGUF scalar type");
}

}  // namespace llcuda
