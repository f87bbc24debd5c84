// llcuda._llcuda.GgufFile: the bounds-checked GGUF reader (llcuda/gguf.h) for Python. Metadata comes
// back as Python values; tensors as NumPy arrays that view the memory-mapped file (no copy; each
// array keeps the file open).
#include <memory>

#include <nanobind/ndarray.h>
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "llcuda/error.h"
#include "llcuda/ggml_type.h"
#include "llcuda/gguf.h"
#include "python_callbacks.h"

namespace llcuda_py {

namespace {

using llcuda::GgufType;

nb::object array_to_python(const llcuda::GgufArray& a) {
    nb::list out;
    switch (a.elem_type) {
        case GgufType::String:
            for (const auto& s : a.strings) out.append(to_python_str(s));
            return out;
#define LLCUDA_ARRAY_CASE(tag, T)                                   \
        case GgufType::tag:                                         \
            for (uint64_t i = 0; i < a.count; ++i) out.append(a.at<T>(i)); \
            return out;
        LLCUDA_ARRAY_CASE(UInt8, uint8_t)
        LLCUDA_ARRAY_CASE(Int8, int8_t)
        LLCUDA_ARRAY_CASE(UInt16, uint16_t)
        LLCUDA_ARRAY_CASE(Int16, int16_t)
        LLCUDA_ARRAY_CASE(UInt32, uint32_t)
        LLCUDA_ARRAY_CASE(Int32, int32_t)
        LLCUDA_ARRAY_CASE(Float32, float)
        LLCUDA_ARRAY_CASE(Bool, bool)
        LLCUDA_ARRAY_CASE(UInt64, uint64_t)
        LLCUDA_ARRAY_CASE(Int64, int64_t)
        LLCUDA_ARRAY_CASE(Float64, double)
#undef LLCUDA_ARRAY_CASE
        case GgufType::Array: break;
    }
    throw llcuda::Error(llcuda::ErrorKind::Unsupported, "nested GGUF arrays are not supported");
}

nb::object value_to_python(const llcuda::GgufValue& v) {
    return std::visit(
        [](const auto& x) -> nb::object {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::string>) return to_python_str(x);
            else if constexpr (std::is_same_v<T, llcuda::GgufArray>) return array_to_python(x);
            else return nb::cast(x);
        },
        v.storage());
}

std::string type_label(const llcuda::GgufValue& v) {
    if (v.type() != GgufType::Array) return llcuda::gguf_type_name(v.type());
    const auto& a = std::get<llcuda::GgufArray>(v.storage());
    return std::string("array[") + llcuda::gguf_type_name(a.elem_type) + "]";
}

// NumPy element type of a tensor type that has one; quantized and bf16 data are raw bytes.
std::optional<nb::dlpack::dtype> numpy_dtype(llcuda::GgmlType t) {
    using G = llcuda::GgmlType;
    switch (t) {
        case G::F32: return nb::dtype<float>();
        case G::F64: return nb::dtype<double>();
        case G::F16: return nb::dlpack::dtype{uint8_t(nb::dlpack::dtype_code::Float), 16, 1};
        case G::I8: return nb::dtype<int8_t>();
        case G::I16: return nb::dtype<int16_t>();
        case G::I32: return nb::dtype<int32_t>();
        case G::I64: return nb::dtype<int64_t>();
        default: return std::nullopt;
    }
}

using ReadOnlyArray = nb::ndarray<nb::numpy, nb::ro>;

// `self` is the Python GgufFile object: the array's owner, so the mapping outlives the array.
ReadOnlyArray tensor_array(nb::handle self, const llcuda::GgufFile& file, const std::string& name) {
    const llcuda::GgufTensorInfo* info = file.contents().find_tensor(name);
    if (!info) throw llcuda::Error(llcuda::ErrorKind::NotFound, "no tensor named '" + name + "' in " + file.path().string());
    const std::span<const uint8_t> bytes = file.tensor_data(*info);
    // NumPy order: outermost dimension first (GGUF's ne is innermost first).
    std::vector<size_t> shape;
    for (uint32_t d = info->n_dims; d-- > 1;) shape.push_back(size_t(info->ne[d]));
    if (auto dtype = numpy_dtype(info->type)) {
        shape.push_back(size_t(info->ne[0]));
        return ReadOnlyArray(bytes.data(), shape.size(), shape.data(), self, nullptr, *dtype);
    }
    shape.push_back(size_t(llcuda::ggml_row_bytes(info->type, info->ne[0])));  // one row's blocks
    return ReadOnlyArray(bytes.data(), shape.size(), shape.data(), self, nullptr, nb::dtype<uint8_t>());
}

}  // namespace

void bind_gguf(nb::module_& m) {
    using llcuda::GgufTensorInfo;
    nb::class_<GgufTensorInfo>(m, "GgufTensorInfo", "One tensor of a GGUF file (name, shape, type, where its data is).")
        .def_ro("name", &GgufTensorInfo::name, "Tensor name.")
        .def_ro("n_dims", &GgufTensorInfo::n_dims, "Dimensions as stored (1..4).")
        .def_prop_ro("ne", [](const GgufTensorInfo& t) { return std::vector<uint64_t>(t.ne.begin(), t.ne.begin() + t.n_dims); },
                     "GGUF order: innermost (contiguous) dimension first.")
        .def_prop_ro("shape", [](const GgufTensorInfo& t) { return std::vector<uint64_t>(t.ne.rbegin() + (4 - t.n_dims), t.ne.rend()); },
                     "NumPy order: outermost dimension first.")
        .def_prop_ro("type", [](const GgufTensorInfo& t) { return std::string(llcuda::ggml_type_name(t.type)); },
                     "ggml type name: 'f32', 'f16', 'q4_K', ...")
        .def_ro("offset", &GgufTensorInfo::offset, "Offset in the data section, bytes.")
        .def_ro("n_bytes", &GgufTensorInfo::n_bytes, "Bytes of data.")
        .def_prop_ro("n_elements", &GgufTensorInfo::n_elements, "Elements.");

    using llcuda::GgufFile;
    nb::class_<GgufFile>(m, "GgufFile", "A GGUF file opened read-only (memory-mapped, every field bounds-checked).")
        .def_static("open", &GgufFile::open, nb::arg("path"), nb::call_guard<nb::gil_scoped_release>(),
                    "Open and parse a GGUF file; FormatError names what is malformed and where.")
        .def_prop_ro("path", &GgufFile::path, "The file.")
        .def_prop_ro("file_size", &GgufFile::file_size, "Bytes.")
        .def_prop_ro("version", [](const GgufFile& f) { return f.contents().version; }, "GGUF version (2 or 3).")
        .def_prop_ro("alignment", [](const GgufFile& f) { return f.contents().alignment; }, "Tensor data alignment.")
        .def_prop_ro("data_offset", [](const GgufFile& f) { return f.contents().data_offset; },
                     "File offset of the tensor data section.")
        .def_prop_ro("metadata",
                     [](const GgufFile& f) {
                         nb::dict d;
                         for (const auto& kv : f.contents().kvs) d[to_python_str(kv.key)] = value_to_python(kv.value);
                         return d;
                     },
                     "Key -> value in file order (ints, floats, bools, strs, lists).")
        .def_prop_ro("metadata_types",
                     [](const GgufFile& f) {
                         nb::dict d;
                         for (const auto& kv : f.contents().kvs) d[to_python_str(kv.key)] = type_label(kv.value);
                         return d;
                     },
                     "Key -> GGUF type ('u32', 'string', 'array[string]', ...).")
        .def_prop_ro("tensors", [](const GgufFile& f) { return f.contents().tensors; }, "Tensor table in file order.")
        .def("tensor",
             [](nb::handle self, const std::string& name) {
                 return tensor_array(self, nb::cast<const GgufFile&>(self), name);
             },
             nb::arg("name"),
             "A read-only NumPy view of a tensor's data (no copy). f32/f16/f64/i8-i64 tensors have their "
             "element type and NumPy shape; other types (quantized, bf16) are uint8 with the last "
             "dimension in bytes per row.");
}

}  // namespace llcuda_py
