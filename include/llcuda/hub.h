// Model names and the Hugging Face hub (docs/model-cache.md).
//
// A model can be named three ways, for the llcuda program (-m, -hf) and the Python package alike:
//   - a GGUF path;
//   - "owner/repo:file.gguf", a file of a Hugging Face repository;
//   - a well-known short name ("gemma-3-1b-Q4_K_M", ...) standing for one such repo:file.
// Hub names are looked up in the model cache (model_cache.h) and downloaded into it when missing:
// resumable, checked against the size and sha256 the hub announces, renamed into place only once
// complete. Offline (HF_HUB_OFFLINE=1, or the caller says so) only the cache is used.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llcuda::hub {

// One file of a hub repository.
struct HubFile {
    std::string repo;               // "owner/name"
    std::string file;               // a file name at the top of the repository (no '/')
    std::string revision = "main";  // branch, tag or commit
};

struct WellKnownModel {
    std::string name;         // "gemma-3-1b-Q4_K_M"
    std::string repo;         // "unsloth/gemma-3-1b-it-GGUF"
    std::string file;         // "gemma-3-1b-it-Q4_K_M.gguf"
    std::string cache_file;   // the name scripts/fetch-models.sh stores it under, or ""
    std::string description;  // one line for listings
};

// The table of well-known names, in listing order.
const std::vector<WellKnownModel>& well_known_models();
const WellKnownModel* find_well_known(std::string_view name);

// "owner/repo:file" (optionally "owner/repo:file@revision") or a well-known name -> the hub file;
// nullopt for anything else (a path, say). Throws InvalidArgument for a string that has the shape
// of a hub name but a bad part (e.g. "owner/repo:" or a file with '/').
std::optional<HubFile> parse_hub_name(std::string_view name);

// The cache paths where a hub file is looked for, in order: the well-known cache_file name (when
// there is one), <cache>/<owner>/<repo>/<file> (where downloads go), <cache>/<file>.
std::vector<std::filesystem::path> cache_candidates(std::string_view name);
// <cache>/<owner>/<repo>/<file>: where download_file() puts it.
std::filesystem::path download_destination(const HubFile& f);

// $HF_ENDPOINT (without a trailing '/'), else https://huggingface.co.
std::string hub_endpoint();
// <endpoint>/<repo>/resolve/<revision>/<file>, each part percent-encoded as a URL path needs.
std::string resolve_url(const HubFile& f, std::string_view endpoint);
// Whether $HF_HUB_OFFLINE is set to a true value (1, true, yes, on).
bool offline_from_env();
// Whether this build can download (it was built with libcurl).
bool download_supported();

// Bytes received so far and the whole size (0 when the server did not say). Return false to stop
// the download; the partial file is kept so that the next attempt resumes it.
using ProgressCallback = std::function<bool(uint64_t downloaded, uint64_t total)>;

struct DownloadOptions {
    std::optional<bool> offline;  // nullopt: offline_from_env()
    ProgressCallback progress;    // may be empty
    std::string endpoint;         // "": hub_endpoint()
    std::string token;            // "": $HF_TOKEN (sent as "Authorization: Bearer ..." to the hub)
    int max_attempts = 5;         // transfers in a row that may fail without receiving a byte
};

// Downloads one hub file into the cache (download_destination) and returns its path. Throws
// llcuda::Error: NotFound (the hub answers 404; offline and not cached), InvalidArgument (401/403:
// set HF_TOKEN), FormatError (size or sha256 differ from what the hub announced: the partial file is
// deleted), Io (network or disk), Unsupported (built without download support).
std::filesystem::path download_file(const HubFile& f, const DownloadOptions& options = {});

// What every model argument goes through: an existing path is returned as it is; a hub or
// well-known name is found in the cache or downloaded; anything else throws NotFound naming it.
std::filesystem::path resolve_model_name(const std::string& name, const DownloadOptions& options = {});

}  // namespace llcuda::hub
