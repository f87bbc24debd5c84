// download_file in a build without libcurl (sources.cmake): names are still resolved from the cache
// (hub_name.cpp), but a missing file cannot be fetched.
#include <fmt/format.h>

#include "llcuda/error.h"
#include "llcuda/hub.h"

namespace llcuda::hub {

bool download_supported() { return false; }

std::filesystem::path download_file(const HubFile& f, const DownloadOptions&) {
    throw Error(ErrorKind::Unsupported,
                fmt::format("'{}' of {} is not in the model cache, and this llcuda was built without download "
                            "support (libcurl was not found: install libcurl4-openssl-dev and rebuild), or put the "
                            "file at {}",
                            f.file, f.repo, download_destination(f).string()));
}

}  // namespace llcuda::hub
