// Test tool: writes a GGUF file with llcuda's writer from a JSON spec made by interop_gguf_py.py,
// so the gguf package can check what llcuda wrote.
//   gguf_from_spec SPEC.json OUT.gguf
// Spec: {"kv": [{"key", "type", "value"} | {"key", "type": "array", "element_type", "values"}],
//        "tensors": [{"name", "type": ggml id, "ne": [ggml order], "data_offset", "data_size"}],
//        "data_file": raw tensor bytes}
#include <cstdio>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "llcuda/error.h"
#include "llcuda/gguf.h"

using namespace llcuda;
using nlohmann::json;

namespace {

GgufType type_from_name(const std::string& name) {
    for (uint32_t t = 0; t <= uint32_t(GgufType::Float64); ++t) {
        if (name == gguf_type_name(GgufType(t))) return GgufType(t);
    }
    throw Error(ErrorKind::InvalidArgument, "unknown value type " + name);
}

GgufValue scalar(GgufType type, const json& v) {
    switch (type) {
        case GgufType::UInt8: return GgufValue::u8(v.get<uint8_t>());
        case GgufType::Int8: return GgufValue::i8(v.get<int8_t>());
        case GgufType::UInt16: return GgufValue::u16(v.get<uint16_t>());
        case GgufType::Int16: return GgufValue::i16(v.get<int16_t>());
        case GgufType::UInt32: return GgufValue::u32(v.get<uint32_t>());
        case GgufType::Int32: return GgufValue::i32(v.get<int32_t>());
        case GgufType::Float32: return GgufValue::f32(float(v.get<double>()));
        case GgufType::Bool: return GgufValue::boolean(v.get<bool>());
        case GgufType::String: return GgufValue::string(v.get<std::string>());
        case GgufType::UInt64: return GgufValue::u64(v.get<uint64_t>());
        case GgufType::Int64: return GgufValue::i64(v.get<int64_t>());
        case GgufType::Float64: return GgufValue::f64(v.get<double>());
        case GgufType::Array: break;
    }
    throw Error(ErrorKind::InvalidArgument, "not a scalar type");
}

template <typename T>
GgufValue numeric(GgufType type, const json& values) {
    std::vector<T> v;
    for (const auto& x : values) v.push_back(type == GgufType::Float32 ? T(float(x.get<double>())) : x.get<T>());
    return GgufValue::numeric_array<T>(type, v);
}

GgufValue array(GgufType elem, const json& values) {
    switch (elem) {
        case GgufType::UInt8: return numeric<uint8_t>(elem, values);
        case GgufType::Int8: return numeric<int8_t>(elem, values);
        case GgufType::UInt16: return numeric<uint16_t>(elem, values);
        case GgufType::Int16: return numeric<int16_t>(elem, values);
        case GgufType::UInt32: return numeric<uint32_t>(elem, values);
        case GgufType::Int32: return numeric<int32_t>(elem, values);
        case GgufType::Float32: return numeric<float>(elem, values);
        case GgufType::UInt64: return numeric<uint64_t>(elem, values);
        case GgufType::Int64: return numeric<int64_t>(elem, values);
        case GgufType::Float64: return numeric<double>(elem, values);
        case GgufType::Bool: {
            std::vector<uint8_t> raw;
            for (const auto& x : values) raw.push_back(x.get<bool>() ? 1 : 0);
            GgufArray a;
            a.elem_type = GgufType::Bool;
            a.count = raw.size();
            a.raw = std::move(raw);
            return GgufValue::array(std::move(a));
        }
        case GgufType::String: return GgufValue::string_array(values.get<std::vector<std::string>>());
        case GgufType::Array: break;
    }
    throw Error(ErrorKind::InvalidArgument, "nested arrays are not supported");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: gguf_from_spec SPEC.json OUT.gguf\n");
        return 2;
    }
    try {
        std::ifstream spec_in(argv[1]);
        const json spec = json::parse(spec_in);
        std::ifstream data_in(spec["data_file"].get<std::string>(), std::ios::binary);
        const std::vector<uint8_t> data((std::istreambuf_iterator<char>(data_in)), std::istreambuf_iterator<char>());

        GgufWriter writer;
        for (const auto& kv : spec["kv"]) {
            const GgufType type = type_from_name(kv["type"]);
            writer.set(kv["key"].get<std::string>(), type == GgufType::Array
                                                         ? array(type_from_name(kv["element_type"]), kv["values"])
                                                         : scalar(type, kv["value"]));
        }
        for (const auto& t : spec["tensors"]) {
            const auto ne = t["ne"].get<std::vector<uint64_t>>();
            const auto span = std::span<const uint8_t>(data).subspan(t["data_offset"].get<size_t>(),
                                                                    t["data_size"].get<size_t>());
            writer.add_tensor(t["name"], GgmlType(t["type"].get<uint32_t>()), ne, span, uint32_t(ne.size()));
        }
        writer.write(argv[2]);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gguf_from_spec: %s\n", e.what());
        return 1;
    }
    return 0;
}
