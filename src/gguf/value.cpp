// Metadata values: type names, scalar sizes and typed access to array elements.
#include <cstring>

#include <fmt/format.h>

#include "gguf/value_traits.h"
#include "llcuda/error.h"
#include "llcuda/gguf.h"

namespace llcuda {

const char* gguf_type_name(GgufType type) {
    switch (type) {
        case GgufType::UInt8: return "u8";
        case GgufType::Int8: return "i8";
        case GgufType::UInt16: return "u16";
        case GgufType::Int16: return "i16";
        case GgufType::UInt32: return "u32";
        case GgufType::Int32: return "i32";
        case GgufType::Float32: return "f32";
        case GgufType::Bool: return "bool";
        case GgufType::String: return "string";
        case GgufType::Array: return "array";
        case GgufType::UInt64: return "u64";
        case GgufType::Int64: return "i64";
        case GgufType::Float64: return "f64";
    }
    return "invalid";
}

size_t gguf_scalar_size(GgufType type) {
    switch (type) {
        case GgufType::UInt8: case GgufType::Int8: case GgufType::Bool: return 1;
        case GgufType::UInt16: case GgufType::Int16: return 2;
        case GgufType::UInt32: case GgufType::Int32: case GgufType::Float32: return 4;
        case GgufType::UInt64: case GgufType::Int64: case GgufType::Float64: return 8;
        case GgufType::String: case GgufType::Array: return 0;
    }
    return 0;
}

GgufValue::GgufValue(Storage v) : storage_(std::move(v)) {}

GgufValue GgufValue::string_array(std::vector<std::string> v) {
    GgufArray array;
    array.elem_type = GgufType::String;
    array.count = v.size();
    array.strings = std::move(v);
    return GgufValue(Storage(std::move(array)));
}

template <typename T>
GgufValue GgufValue::numeric_array(GgufType elem_type, std::span<const T> v) {
    if (gguf_type_of<T>() != elem_type) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("array element type {} does not match the C++ type",
                                                            gguf_type_name(elem_type)));
    }
    GgufArray array;
    array.elem_type = elem_type;
    array.count = v.size();
    array.raw.resize(v.size_bytes());
    if (!v.empty()) std::memcpy(array.raw.data(), v.data(), v.size_bytes());
    return GgufValue(Storage(std::move(array)));
}

template <typename T>
T GgufArray::at(uint64_t i) const {
    if (elem_type != gguf_type_of<T>()) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("array of {} read as {}", gguf_type_name(elem_type),
                                                            gguf_type_name(gguf_type_of<T>())));
    }
    if (i >= count) throw Error(ErrorKind::InvalidArgument, fmt::format("array index {} out of range {}", i, count));
    T value;
    std::memcpy(&value, raw.data() + i * sizeof(T), sizeof(T));
    return value;
}

template <typename T>
std::vector<T> GgufArray::as() const {
    if (elem_type != gguf_type_of<T>()) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("array of {} read as {}", gguf_type_name(elem_type),
                                                            gguf_type_name(gguf_type_of<T>())));
    }
    std::vector<T> values(count);
    if (count) std::memcpy(values.data(), raw.data(), count * sizeof(T));
    return values;
}

#define LLCUDA_INSTANTIATE_ARRAY(T)                                                    \
    template T GgufArray::at<T>(uint64_t) const;                                       \
    template std::vector<T> GgufArray::as<T>() const;                                  \
    template GgufValue GgufValue::numeric_array<T>(GgufType, std::span<const T>);
LLCUDA_INSTANTIATE_ARRAY(uint8_t)
LLCUDA_INSTANTIATE_ARRAY(int8_t)
LLCUDA_INSTANTIATE_ARRAY(uint16_t)
LLCUDA_INSTANTIATE_ARRAY(int16_t)
LLCUDA_INSTANTIATE_ARRAY(uint32_t)
LLCUDA_INSTANTIATE_ARRAY(int32_t)
LLCUDA_INSTANTIATE_ARRAY(float)
LLCUDA_INSTANTIATE_ARRAY(uint64_t)
LLCUDA_INSTANTIATE_ARRAY(int64_t)
LLCUDA_INSTANTIATE_ARRAY(double)
#undef LLCUDA_INSTANTIATE_ARRAY

template <>
bool GgufArray::at<bool>(uint64_t i) const {
    if (elem_type != GgufType::Bool) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("array of {} read as bool", gguf_type_name(elem_type)));
    }
    if (i >= count) throw Error(ErrorKind::InvalidArgument, fmt::format("array index {} out of range {}", i, count));
    return raw[i] != 0;
}

}  // namespace llcuda
