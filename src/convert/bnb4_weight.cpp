// Reassembling a Bnb4Tensor from a transformers bnb-4bit checkpoint and decoding it.
#include "convert/bnb4_weight.h"

#include <cmath>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/fp16.h"
#include "llcuda/error.h"
#include "llcuda/quantize.h"

namespace llcuda::convert {
namespace {

using json = nlohmann::json;

const StTensor* quant_state(const SafetensorsSet& set, const std::string& name, Bnb4Type* type) {
    if (const StTensor* t = set.find(name + ".quant_state.bitsandbytes__nf4")) { if (type) *type = Bnb4Type::NF4; return t; }
    if (const StTensor* t = set.find(name + ".quant_state.bitsandbytes__fp4")) { if (type) *type = Bnb4Type::FP4; return t; }
    return nullptr;
}

json state_json(const SafetensorsSet& set, const std::string& name, Bnb4Type* type) {
    const StTensor* qs = quant_state(set, name, type);
    if (!qs) throw Error(ErrorKind::NotFound, fmt::format("'{}' has no bitsandbytes quant_state", name));
    try {
        return json::parse(reinterpret_cast<const char*>(qs->bytes.data()),
                           reinterpret_cast<const char*>(qs->bytes.data()) + qs->bytes.size());
    } catch (const json::exception& e) {
        throw Error(ErrorKind::FormatError, fmt::format("'{}': quant_state is not valid JSON ({})", name, e.what()));
    }
}

std::vector<float> floats_of(const SafetensorsSet& set, const std::string& name) {
    const StTensor& t = set.at(name);
    if (t.dtype != StDtype::F32)
        throw Error(ErrorKind::FormatError, fmt::format("'{}' should be F32, is {}", name, st_dtype_name(t.dtype)));
    return read_f32(t);
}

}  // namespace

bool is_bnb4_side_tensor(const std::string& n) {
    for (const char* s : {".absmax", ".quant_map", ".nested_absmax", ".nested_quant_map",
                          ".quant_state.bitsandbytes__nf4", ".quant_state.bitsandbytes__fp4"}) {
        if (n.ends_with(s)) return true;
    }
    return false;
}

bool is_bnb4_weight(const SafetensorsSet& set, const std::string& name) { return quant_state(set, name, nullptr) != nullptr; }

std::vector<uint64_t> bnb4_shape(const SafetensorsSet& set, const std::string& name) {
    const json s = state_json(set, name, nullptr);
    if (!s.contains("shape") || !s["shape"].is_array())
        throw Error(ErrorKind::FormatError, fmt::format("'{}': quant_state has no shape", name));
    return s["shape"].get<std::vector<uint64_t>>();
}

std::vector<float> bnb4_load(const SafetensorsSet& set, const std::string& name) {
    Bnb4Type type = Bnb4Type::NF4;
    const json s = state_json(set, name, &type);
    Bnb4Tensor t;
    t.type = type;
    t.blocksize = s.value("blocksize", 64u);
    const auto shape = bnb4_shape(set, name);
    t.n_elements = 1;
    for (uint64_t d : shape) t.n_elements *= d;
    const StTensor& packed = set.at(name);
    if (packed.dtype != StDtype::U8 || packed.bytes.size() != (t.n_elements + 1) / 2)
        throw Error(ErrorKind::FormatError, fmt::format("'{}': {} packed bytes for {} elements", name, packed.bytes.size(),
                                                        t.n_elements));
    t.packed.assign(packed.bytes.begin(), packed.bytes.end());

    // The checkpoint stores its code table; it must be the one the format defines.
    const auto map = floats_of(set, name + ".quant_map");
    const auto expect = bnb4_code_values(type);
    if (map.size() != expect.size())
        throw Error(ErrorKind::FormatError, fmt::format("'{}': quant_map has {} entries", name, map.size()));
    for (size_t i = 0; i < map.size(); ++i) {
        if (std::fabs(map[i] - expect[i]) > 1e-6f)
            throw Error(ErrorKind::Unsupported, fmt::format("'{}': quant_map differs from the standard table", name));
    }
    const uint64_t n_blocks = (t.n_elements + t.blocksize - 1) / t.blocksize;
    const StTensor& absmax = set.at(name + ".absmax");
    if (s.contains("nested_offset") || absmax.dtype == StDtype::U8) {
        t.double_quant = true;
        t.absmax_codes.assign(absmax.bytes.begin(), absmax.bytes.end());
        t.nested_absmax = floats_of(set, name + ".nested_absmax");
        t.nested_map = floats_of(set, name + ".nested_quant_map");
        t.nested_offset = s.value("nested_offset", 0.0f);
        const uint32_t nbs = s.value("nested_blocksize", 256u);
        if (nbs != 256)
            throw Error(ErrorKind::Unsupported, fmt::format("'{}': nested blocksize {} (only 256)", name, nbs));
        if (t.absmax_codes.size() != n_blocks || t.nested_map.size() != 256 ||
            t.nested_absmax.size() != (n_blocks + 255) / 256)
            throw Error(ErrorKind::FormatError, fmt::format("'{}': double-quant statistics have the wrong sizes", name));
    } else {
        t.absmax = floats_of(set, name + ".absmax");
        if (t.absmax.size() != n_blocks)
            throw Error(ErrorKind::FormatError, fmt::format("'{}': {} absmax values for {} blocks", name, t.absmax.size(), n_blocks));
    }
    std::vector<float> out(t.n_elements);  // [out, in] row-major
    bnb4_dequantize(t, out);
    // bitsandbytes casts the result to the original dtype (QuantState.dtype) before use; do the
    // same rounding so the converted weights equal what transformers multiplies with.
    const std::string dtype = s.value("dtype", std::string("float32"));
    if (dtype == "bfloat16") for (float& x : out) x = bf16_to_fp32(fp32_to_bf16(x));
    else if (dtype == "float16") for (float& x : out) x = fp16_to_fp32(fp32_to_fp16(x));
    return out;
}

}  // namespace llcuda::convert
