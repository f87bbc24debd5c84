// Calling back into Python from a generation that runs with the GIL released: the user's stream
// callback, and the Ctrl-C check. The engine calls the stream callback once per piece of text, so
// that is where the binding re-acquires the GIL, runs Python signal handlers (a SIGINT raises
// KeyboardInterrupt there) and stops the generation when one raised.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <nanobind/nanobind.h>

#include "llcuda/engine.h"

namespace llcuda_py {

namespace nb = nanobind;

// A Python exception caught while the GIL was held, kept until the call returns to Python.
class PendingError {
public:
    PendingError() = default;
    PendingError(const PendingError&) = delete;
    PendingError& operator=(const PendingError&) = delete;
    ~PendingError();  // drops an error never re-raised (needs the GIL; nb calls hold it then)

    // Takes the current Python error indicator (GIL held, indicator set).
    void capture();
    bool pending() const { return type_ != nullptr; }
    // Re-raises the captured error as nb::python_error (GIL held); does nothing when none.
    void raise_if_pending();

private:
    PyObject* type_ = nullptr;
    PyObject* value_ = nullptr;
    PyObject* traceback_ = nullptr;
};

// Python delivers signals to the main thread only, so only a call made from the main thread checks
// them; other threads' calls never take the GIL for it.
bool called_from_main_thread();  // GIL held

// The callback the engine gets: per piece, optionally the user's Python callable (returning False
// stops the generation), and at most every `signal_interval` a signal check. Any Python exception
// (from the callable or a signal handler) stops the generation and is re-raised by finish().
class StreamBridge {
public:
    // `on_piece` may be None. Constructed with the GIL held.
    StreamBridge(nb::object on_piece, bool check_signals);
    ~StreamBridge();

    // For the engine; called with the GIL released.
    llcuda::StreamCallback callback();
    // GIL held, after the engine returned: raises what a callback or signal handler raised.
    void finish() { error_.raise_if_pending(); }
    bool stopped_by_error() const { return error_.pending(); }

private:
    bool on_piece(std::string_view piece);

    nb::object on_piece_;
    bool check_signals_;
    std::chrono::steady_clock::time_point last_check_;
    PendingError error_;
};

// Python text from engine bytes; invalid UTF-8 (a model can emit any byte) becomes U+FFFD.
nb::str to_python_str(std::string_view bytes);

}  // namespace llcuda_py
