// Lookup and typed access over parsed GGUF metadata.
#include <fmt/format.h>

#include "llcuda/error.h"
#include "llcuda/gguf.h"

namespace llcuda {

namespace {

template <typename T>
const T& get_typed(const GgufContents& contents, std::string_view key, GgufType expected) {
    const GgufValue* value = contents.find(key);
    if (!value) throw Error(ErrorKind::NotFound, fmt::format("metadata key '{}' not found", key));
    if (value->type() != expected) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("metadata key '{}' has type {}, expected {}", key,
                                                            gguf_type_name(value->type()), gguf_type_name(expected)));
    }
    return std::get<T>(value->storage());
}

}  // namespace

void GgufContents::rebuild_index() {
    kv_index_.clear();
    tensor_index_.clear();
    for (size_t i = 0; i < kvs.size(); ++i) kv_index_.emplace(kvs[i].key, i);
    for (size_t i = 0; i < tensors.size(); ++i) tensor_index_.emplace(tensors[i].name, i);
}

const GgufValue* GgufContents::find(std::string_view key) const {
    auto it = kv_index_.find(std::string(key));
    return it == kv_index_.end() ? nullptr : &kvs[it->second].value;
}

const GgufTensorInfo* GgufContents::find_tensor(std::string_view name) const {
    auto it = tensor_index_.find(std::string(name));
    return it == tensor_index_.end() ? nullptr : &tensors[it->second];
}

uint32_t GgufContents::get_u32(std::string_view key) const { return get_typed<uint32_t>(*this, key, GgufType::UInt32); }
int32_t GgufContents::get_i32(std::string_view key) const { return get_typed<int32_t>(*this, key, GgufType::Int32); }
uint64_t GgufContents::get_u64(std::string_view key) const { return get_typed<uint64_t>(*this, key, GgufType::UInt64); }
float GgufContents::get_f32(std::string_view key) const { return get_typed<float>(*this, key, GgufType::Float32); }
bool GgufContents::get_bool(std::string_view key) const { return get_typed<bool>(*this, key, GgufType::Bool); }
const std::string& GgufContents::get_string(std::string_view key) const {
    return get_typed<std::string>(*this, key, GgufType::String);
}
const GgufArray& GgufContents::get_array(std::string_view key) const {
    return get_typed<GgufArray>(*this, key, GgufType::Array);
}

uint32_t GgufContents::get_u32_or(std::string_view key, uint32_t fallback) const {
    return has(key) ? get_u32(key) : fallback;
}
float GgufContents::get_f32_or(std::string_view key, float fallback) const {
    return has(key) ? get_f32(key) : fallback;
}
bool GgufContents::get_bool_or(std::string_view key, bool fallback) const {
    return has(key) ? get_bool(key) : fallback;
}
std::string GgufContents::get_string_or(std::string_view key, std::string fallback) const {
    return has(key) ? get_string(key) : fallback;
}

int64_t GgufContents::get_integer(std::string_view key) const {
    const GgufValue* value = find(key);
    if (!value) throw Error(ErrorKind::NotFound, fmt::format("metadata key '{}' not found", key));
    return std::visit(
        [&](const auto& v) -> int64_t {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
                if constexpr (std::is_same_v<T, uint64_t>) {
                    if (v > uint64_t(INT64_MAX)) {
                        throw Error(ErrorKind::InvalidArgument, fmt::format("metadata key '{}' is too large", key));
                    }
                }
                return int64_t(v);
            } else {
                throw Error(ErrorKind::InvalidArgument, fmt::format("metadata key '{}' has type {}, expected an integer",
                                                                    key, gguf_type_name(value->type())));
            }
        },
        value->storage());
}

}  // namespace llcuda
