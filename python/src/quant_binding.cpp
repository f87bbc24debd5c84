// llcuda._llcuda quantization entry points over llcuda/quantize.h: bitsandbytes 4-bit (NF4/FP4) on
// float32 arrays (any DLPack / buffer-protocol producer: NumPy, torch CPU tensors; read in place, no
// copy) and whole-model GGUF quantization (`llcuda quantize`). llcuda/quantization.py shapes these
// into the bitsandbytes-like Python API.
#include <memory>
#include <string>
#include <vector>

#include <nanobind/ndarray.h>
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "llcuda/error.h"
#include "llcuda/ggml_type.h"
#include "llcuda/quantize.h"
#include "progress_bridge.h"

namespace llcuda_py {

namespace {

using FloatsIn = nb::ndarray<const float, nb::c_contig, nb::device::cpu>;
using BytesIn = nb::ndarray<const uint8_t, nb::c_contig, nb::device::cpu>;
template <class T>
using Out1d = nb::ndarray<nb::numpy, T, nb::ndim<1>>;

// A 1-D NumPy array that takes ownership of `v` (no copy of the data).
template <class T>
Out1d<T> to_numpy(std::vector<T>&& v) {
    auto* owned = new std::vector<T>(std::move(v));
    nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
    const size_t n = owned->size();
    return Out1d<T>(owned->data(), {n}, owner);
}

llcuda::Bnb4Type bnb4_type(const std::string& name) {
    if (name == "nf4") return llcuda::Bnb4Type::NF4;
    if (name == "fp4") return llcuda::Bnb4Type::FP4;
    throw llcuda::Error(llcuda::ErrorKind::InvalidArgument, "quant_type '" + name + "': expected 'nf4' or 'fp4'");
}

template <class T, class A>
std::vector<T> copy_of(const A& a) {
    const T* p = a.data();
    return std::vector<T>(p, p + a.size());
}

// quantize: the flattened float32 input -> dict of the Bnb4Tensor's parts as NumPy arrays.
nb::dict bnb4_quantize(FloatsIn x, const std::string& quant_type, uint32_t blocksize, bool double_quant) {
    const llcuda::Bnb4Type type = bnb4_type(quant_type);
    const std::span<const float> src(x.data(), x.size());
    llcuda::Bnb4Tensor t;
    {
        nb::gil_scoped_release release;
        t = llcuda::bnb4_quantize(type, src, blocksize, double_quant);
    }
    nb::dict d;
    d["packed"] = to_numpy(std::move(t.packed));
    d["n_elements"] = t.n_elements;
    d["blocksize"] = t.blocksize;
    d["double_quant"] = t.double_quant;
    if (t.double_quant) {
        d["absmax_codes"] = to_numpy(std::move(t.absmax_codes));
        d["nested_absmax"] = to_numpy(std::move(t.nested_absmax));
        d["nested_map"] = to_numpy(std::move(t.nested_map));
        d["nested_offset"] = t.nested_offset;
    } else {
        d["absmax"] = to_numpy(std::move(t.absmax));
    }
    return d;
}

// dequantize: the parts (as bitsandbytes' QuantState holds them) -> n_elements float32 values.
// absmax is float32 (plain) or uint8 codes (double-quantized, with the nested parts).
Out1d<float> bnb4_dequantize(BytesIn packed, nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu> absmax,
                             const std::string& quant_type, uint32_t blocksize, uint64_t n_elements,
                             std::optional<FloatsIn> nested_absmax, std::optional<FloatsIn> nested_map,
                             float nested_offset) {
    llcuda::Bnb4Tensor t;
    t.type = bnb4_type(quant_type);
    t.blocksize = blocksize;
    t.n_elements = n_elements;
    t.packed = copy_of<uint8_t>(packed);
    t.double_quant = nested_absmax.has_value();
    if (t.double_quant != nested_map.has_value())
        throw llcuda::Error(llcuda::ErrorKind::InvalidArgument, "double quantization needs both nested_absmax and nested_map");
    if (t.double_quant) {
        if (absmax.dtype() != nb::dtype<uint8_t>())
            throw llcuda::Error(llcuda::ErrorKind::InvalidArgument, "double-quantized absmax must be uint8 codes");
        const auto* p = static_cast<const uint8_t*>(absmax.data());
        t.absmax_codes.assign(p, p + absmax.size());
        t.nested_absmax = copy_of<float>(*nested_absmax);
        t.nested_map = copy_of<float>(*nested_map);
        t.nested_offset = nested_offset;
    } else {
        if (absmax.dtype() != nb::dtype<float>())
            throw llcuda::Error(llcuda::ErrorKind::InvalidArgument, "absmax must be float32 (or uint8 codes with double quantization)");
        const auto* p = static_cast<const float*>(absmax.data());
        t.absmax.assign(p, p + absmax.size());
    }
    std::vector<float> out(n_elements);
    {
        nb::gil_scoped_release release;
        llcuda::bnb4_dequantize(t, out);
    }
    return to_numpy(std::move(out));
}

llcuda::ModelQuantizeParams quantize_params(const std::string& file_type, unsigned n_threads, bool pure,
                                            bool leave_output, bool allow_requantize,
                                            const std::optional<std::string>& output_type,
                                            const std::optional<std::string>& token_embedding_type,
                                            const std::optional<std::filesystem::path>& imatrix) {
    auto type_of = [](const std::optional<std::string>& name, const char* what) -> std::optional<llcuda::GgmlType> {
        if (!name) return std::nullopt;
        const auto t = llcuda::ggml_type_from_name(*name);
        if (!t) throw llcuda::Error(llcuda::ErrorKind::InvalidArgument, std::string(what) + ": unknown ggml type '" + *name + "'");
        return t;
    };
    llcuda::ModelQuantizeParams p;
    p.file_type = file_type;
    p.n_threads = n_threads;
    p.pure = pure;
    p.leave_output = leave_output;
    p.allow_requantize = allow_requantize;
    p.output_type = type_of(output_type, "output_type");
    p.token_embedding_type = type_of(token_embedding_type, "token_embedding_type");
    if (imatrix) p.imatrix = *imatrix;
    return p;
}

nb::dict tensor_report(const llcuda::ModelQuantizeReport::Tensor& t) {
    nb::dict d;
    d["name"] = t.name;
    d["from"] = llcuda::ggml_type_name(t.from);
    d["to"] = llcuda::ggml_type_name(t.to);
    d["bytes_in"] = t.bytes_in;
    d["bytes_out"] = t.bytes_out;
    d["used_imatrix"] = t.used_imatrix;
    return d;
}

nb::dict quantize_model(const std::filesystem::path& input, const std::filesystem::path& output,
                        const std::string& file_type, unsigned n_threads, bool pure, bool leave_output,
                        bool allow_requantize, std::optional<std::string> output_type,
                        std::optional<std::string> token_embedding_type, std::optional<std::filesystem::path> imatrix,
                        nb::object progress) {
    const auto params = quantize_params(file_type, n_threads, pure, leave_output, allow_requantize, output_type,
                                        token_embedding_type, imatrix);
    ProgressBridge bridge(progress);
    const auto report = bridge.run([&] {
        return llcuda::quantize_model(input, output, params, [&](const llcuda::ModelQuantizeReport::Tensor& t) {
            bridge.report(t.name, std::string(llcuda::ggml_type_name(t.from)), std::string(llcuda::ggml_type_name(t.to)));
        });
    });
    nb::list tensors;
    for (const auto& t : report.tensors) tensors.append(tensor_report(t));
    nb::dict d;
    d["tensors"] = tensors;
    d["file_type"] = report.file_type;
    d["bytes_in"] = report.bytes_in;
    d["bytes_out"] = report.bytes_out;
    return d;
}

}  // namespace

void bind_quant(nb::module_& m) {
    m.def("bnb4_quantize", &bnb4_quantize, nb::arg("x").noconvert(), nb::arg("quant_type"), nb::arg("blocksize"),
          nb::arg("double_quant"),
          "bitsandbytes-compatible block-wise 4-bit quantization of a C-contiguous float32 CPU array (read in "
          "place). Returns a dict: packed (uint8, element 2k in the high nibble), n_elements, blocksize, "
          "double_quant, and absmax (float32) or absmax_codes/nested_absmax/nested_map/nested_offset.");
    m.def("bnb4_dequantize", &bnb4_dequantize, nb::arg("packed").noconvert(), nb::arg("absmax").noconvert(),
          nb::arg("quant_type"), nb::arg("blocksize"), nb::arg("n_elements"), nb::arg("nested_absmax").noconvert() = nb::none(),
          nb::arg("nested_map").noconvert() = nb::none(), nb::arg("nested_offset") = 0.0f,
          "Decode bitsandbytes 4-bit data to n_elements float32 values (a new NumPy array).");
    m.def("bnb4_code_values",
          [](const std::string& quant_type) {
              const auto v = llcuda::bnb4_code_values(bnb4_type(quant_type));
              return to_numpy(std::vector<float>(v.begin(), v.end()));
          },
          nb::arg("quant_type"), "The 16 code values of 'nf4' or 'fp4' (index = 4-bit code), float32.");
    m.def("quantize_model", &quantize_model, nb::arg("input"), nb::arg("output"), nb::arg("file_type"),
          nb::arg("n_threads") = 0, nb::arg("pure") = false, nb::arg("leave_output") = false,
          nb::arg("allow_requantize") = false, nb::arg("output_type") = nb::none(),
          nb::arg("token_embedding_type") = nb::none(), nb::arg("imatrix") = nb::none(), nb::arg("progress") = nb::none(),
          "Re-quantize a GGUF model with a llama-quantize preset (what `llcuda quantize` does); the output is "
          "written atomically. progress(name, from_type, to_type) is called before each tensor. Returns the "
          "report: tensors (name, from, to, bytes_in, bytes_out, used_imatrix), file_type, bytes_in, bytes_out.");
}

}  // namespace llcuda_py
