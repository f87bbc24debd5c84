// llcuda::Error reaches Python as the llcuda.errors class of its ErrorKind. The classes are written
// in Python (they derive from both LlcudaError and the matching builtin, e.g. ValueError), and
// llcuda/errors.py hands them to this module at import through _set_error_classes.
#include <nanobind/stl/string.h>

#include "bindings.h"
#include "llcuda/error.h"

namespace llcuda_py {

namespace {

// Indexed by ErrorKind; null until llcuda.errors registered its classes (then RuntimeError).
PyObject* error_classes[int(llcuda::ErrorKind::Internal) + 1] = {};

const char* kind_key(llcuda::ErrorKind kind) {
    switch (kind) {
        case llcuda::ErrorKind::InvalidArgument: return "invalid_argument";
        case llcuda::ErrorKind::NotFound: return "not_found";
        case llcuda::ErrorKind::FormatError: return "format_error";
        case llcuda::ErrorKind::Unsupported: return "unsupported";
        case llcuda::ErrorKind::Io: return "io";
        case llcuda::ErrorKind::OutOfMemory: return "out_of_memory";
        case llcuda::ErrorKind::Internal: return "internal";
    }
    return "internal";
}

constexpr llcuda::ErrorKind all_kinds[] = {
    llcuda::ErrorKind::InvalidArgument, llcuda::ErrorKind::NotFound, llcuda::ErrorKind::FormatError,
    llcuda::ErrorKind::Unsupported,     llcuda::ErrorKind::Io,       llcuda::ErrorKind::OutOfMemory,
    llcuda::ErrorKind::Internal};

}  // namespace

void bind_errors(nb::module_& m) {
    m.def(
        "_set_error_classes",
        [](nb::dict classes) {
            for (llcuda::ErrorKind kind : all_kinds) {
                nb::object cls = classes[kind_key(kind)];
                if (!PyType_Check(cls.ptr()) || !PyType_IsSubtype((PyTypeObject*)cls.ptr(), (PyTypeObject*)PyExc_Exception)) {
                    throw nb::type_error("_set_error_classes: every value must be an Exception subclass");
                }
                Py_XDECREF(error_classes[int(kind)]);
                error_classes[int(kind)] = cls.inc_ref().ptr();
            }
        },
        nb::arg("classes"),
        "Internal: the Python exception class for each llcuda::ErrorKind (llcuda.errors calls it at import).");

    nb::register_exception_translator([](const std::exception_ptr& p, void*) {
        try {
            std::rethrow_exception(p);
        } catch (const llcuda::Error& e) {
            PyObject* cls = error_classes[int(e.kind())];
            PyErr_SetString(cls ? cls : PyExc_RuntimeError, e.what());
        }
    });
}

}  // namespace llcuda_py
