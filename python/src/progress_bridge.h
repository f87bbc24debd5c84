// Progress callbacks for the long native jobs (quantize_model, convert, export) that run with the GIL
// released: each report re-acquires the GIL, runs Python's signal handlers when called from the main
// thread (so Ctrl-C stops a conversion between two tensors) and calls the user's callable. A Python
// exception from either aborts the job (the C++ writers are atomic: nothing is left at the
// destination) and is re-raised by finish() once the job has returned.
#pragma once

#include <exception>
#include <utility>

#include <nanobind/nanobind.h>

#include "python_callbacks.h"

namespace llcuda_py {

class ProgressBridge {
public:
    // Thrown through the C++ job to unwind it after a Python error was captured.
    struct Aborted : std::exception {
        const char* what() const noexcept override { return "aborted by a Python exception"; }
    };

    // GIL held. `fn` may be None.
    explicit ProgressBridge(nb::object fn) : fn_(std::move(fn)), check_signals_(called_from_main_thread()) {}

    // Called by the job with the GIL released.
    template <class... Args>
    void report(Args&&... args) {
        nb::gil_scoped_acquire gil;
        if (error_.pending()) throw Aborted{};
        if (check_signals_ && PyErr_CheckSignals() != 0) {
            error_.capture();
            throw Aborted{};
        }
        if (fn_.is_none()) return;
        try {
            fn_(std::forward<Args>(args)...);
        } catch (nb::python_error& e) {
            e.restore();
            error_.capture();
            throw Aborted{};
        }
    }

    // Runs `job` with the GIL released (GIL held on entry and exit); re-raises a captured Python
    // exception in preference to whatever the job threw while unwinding.
    template <class Job>
    auto run(Job&& job) {
        try {
            nb::gil_scoped_release release;
            return job();
        } catch (...) {
            error_.raise_if_pending();
            throw;
        }
    }

private:
    nb::object fn_;
    bool check_signals_;
    PendingError error_;
};

}  // namespace llcuda_py
