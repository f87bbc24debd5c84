// Model names and hub downloads (llcuda/hub.h) for llcuda.models: the name table, the cache paths a
// name is looked for at, and resolve, which downloads a missing file with the GIL released. The
// Python progress callback and the Ctrl-C check run in the download's progress callback (called at
// most every 100 ms), which re-acquires the GIL for them.
#include <optional>

#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "llcuda/error.h"
#include "llcuda/hub.h"
#include "python_callbacks.h"

namespace llcuda_py {

namespace {

std::string resolve(const std::string& name, std::optional<bool> offline, nb::object progress) {
    PendingError error;
    const bool check_signals = called_from_main_thread();
    const bool call_user = !progress.is_none();
    llcuda::hub::DownloadOptions o;
    o.offline = offline;
    o.progress = [&](uint64_t done, uint64_t total) {
        nb::gil_scoped_acquire gil;
        if (error.pending()) return false;
        if (check_signals && PyErr_CheckSignals() != 0) {
            error.capture();
            return false;
        }
        if (!call_user) return true;
        try {
            // Only an explicit False stops: callbacks written as print() return None.
            return !progress(done, total).is(nb::bool_(false));
        } catch (nb::python_error& e) {
            e.restore();
            error.capture();
            return false;
        }
    };
    std::string path;
    try {
        nb::gil_scoped_release release;
        path = llcuda::hub::resolve_model_name(name, o).string();
    } catch (const llcuda::Error&) {
        error.raise_if_pending();  // a KeyboardInterrupt or the callback's own error comes first
        throw;
    }
    return path;
}

}  // namespace

void bind_hub(nb::module_& m) {
    m.def(
        "well_known_models",
        [] {
            std::vector<std::tuple<std::string, std::string, std::string, std::string, std::string>> out;
            for (const auto& w : llcuda::hub::well_known_models()) {
                out.emplace_back(w.name, w.repo, w.file, w.cache_file, w.description);
            }
            return out;
        },
        "The well-known model names: (name, repo, file, cache_file, description) tuples.");
    m.def(
        "hub_parse_name",
        [](const std::string& name) -> std::optional<std::tuple<std::string, std::string, std::string>> {
            const auto f = llcuda::hub::parse_hub_name(name);
            if (!f) return std::nullopt;
            return std::make_tuple(f->repo, f->file, f->revision);
        },
        nb::arg("name"), "(repo, file, revision) of a 'owner/repo[@revision]:file' or well-known name, else None.");
    m.def(
        "hub_cache_candidates",
        [](const std::string& name) {
            std::vector<std::string> out;
            for (const auto& p : llcuda::hub::cache_candidates(name)) out.push_back(p.string());
            return out;
        },
        nb::arg("name"), "The cache paths a hub or well-known name is looked for at, in order.");
    m.def("hub_endpoint", &llcuda::hub::hub_endpoint, "$HF_ENDPOINT, else https://huggingface.co.");
    m.def("hub_download_supported", &llcuda::hub::download_supported,
          "Whether this build can download from the hub (it was built with libcurl).");
    m.def("hub_resolve", &resolve, nb::arg("name"), nb::arg("offline") = nb::none(), nb::arg("progress") = nb::none(),
          "The file a model name stands for: an existing path as is, a hub or well-known name from the cache, "
          "downloaded when missing (unless offline; None: $HF_HUB_OFFLINE). progress(downloaded, total) is "
          "called during a download; returning False stops it (the partial file is kept for a resume).");
}

}  // namespace llcuda_py
