#include "python_callbacks.h"

namespace llcuda_py {

namespace {
// Ctrl-C is noticed within this long (plus one piece); checking every piece would take the GIL for
// every token, which other Python threads would feel.
constexpr auto signal_interval = std::chrono::milliseconds(20);
}  // namespace

PendingError::~PendingError() {
    if (!type_ && !value_ && !traceback_) return;
    nb::gil_scoped_acquire gil;
    Py_XDECREF(type_);
    Py_XDECREF(value_);
    Py_XDECREF(traceback_);
}

void PendingError::capture() {
    if (pending()) {  // keep the first error; drop later ones
        PyErr_Clear();
        return;
    }
    PyErr_Fetch(&type_, &value_, &traceback_);
    PyErr_NormalizeException(&type_, &value_, &traceback_);
}

void PendingError::raise_if_pending() {
    if (!pending()) return;
    PyErr_Restore(type_, value_, traceback_);  // steals the references
    type_ = value_ = traceback_ = nullptr;
    throw nb::python_error();
}

bool called_from_main_thread() {
    // Leaked on purpose: a static nb::object would be released after the interpreter is gone.
    static PyObject* main_thread = nb::object(nb::module_::import_("threading").attr("main_thread")).release().ptr();
    const nb::object ident = nb::borrow(main_thread)().attr("ident");
    return nb::cast<unsigned long>(ident) == PyThread_get_thread_ident();
}

StreamBridge::StreamBridge(nb::object on_piece, bool check_signals)
    : on_piece_(std::move(on_piece)), check_signals_(check_signals), last_check_(std::chrono::steady_clock::now()) {
    if (on_piece_.is_none()) on_piece_ = nb::object();
}

StreamBridge::~StreamBridge() {
    if (on_piece_.is_valid()) {
        nb::gil_scoped_acquire gil;
        on_piece_.reset();
    }
}

llcuda::StreamCallback StreamBridge::callback() {
    return [this](std::string_view piece) { return on_piece(piece); };
}

bool StreamBridge::on_piece(std::string_view piece) {
    if (error_.pending()) return false;
    const bool call_user = on_piece_.is_valid();
    bool check_now = false;
    if (check_signals_) {
        const auto now = std::chrono::steady_clock::now();
        if (call_user || now - last_check_ >= signal_interval) {
            check_now = true;
            last_check_ = now;
        }
    }
    if (!call_user && !check_now) return true;

    nb::gil_scoped_acquire gil;
    if (check_now && PyErr_CheckSignals() != 0) {
        error_.capture();
        return false;
    }
    if (!call_user) return true;
    try {
        const nb::object answer = on_piece_(to_python_str(piece));
        // Only an explicit False stops: callbacks written as print() return None.
        return !(answer.is(nb::bool_(false)));
    } catch (nb::python_error& e) {
        e.restore();
        error_.capture();
        return false;
    }
}

nb::str to_python_str(std::string_view bytes) {
    PyObject* s = PyUnicode_DecodeUTF8(bytes.data(), Py_ssize_t(bytes.size()), "replace");
    if (!s) throw nb::python_error();
    return nb::steal<nb::str>(s);
}

}  // namespace llcuda_py
