// Model names -> files (hub.h): parsing "owner/repo[@revision]:file", the cache paths a name is
// looked for at, and resolve_model_name, the one function every model argument goes through.
#include <cctype>

#include <fmt/format.h>

#include "llcuda/error.h"
#include "llcuda/hub.h"
#include "llcuda/model_cache.h"

namespace llcuda::hub {

namespace {
namespace fs = std::filesystem;

// Hub repository ids are [A-Za-z0-9._-] with no "..": anything else would be a path trick in the
// cache folder or the URL.
bool valid_id_part(std::string_view s) {
    if (s.empty() || s == "." || s == ".." || s.find("..") != std::string_view::npos) return false;
    for (char c : s) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return false;
    }
    return true;
}

std::string known_names() {
    std::string out;
    for (const auto& m : well_known_models()) out += (out.empty() ? "" : ", ") + m.name;
    return out;
}
}  // namespace

std::optional<HubFile> parse_hub_name(std::string_view name) {
    if (const WellKnownModel* known = find_well_known(name)) return HubFile{known->repo, known->file, "main"};
    const size_t colon = name.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view repo = name.substr(0, colon);
    const std::string_view file = name.substr(colon + 1);
    std::string_view revision = "main";
    if (const size_t at = repo.find('@'); at != std::string_view::npos) {
        revision = repo.substr(at + 1);
        repo = repo.substr(0, at);
    }
    // Only "x/y:..." has the shape of a hub name; "/tmp/a:b" or "a:b" are (missing) paths.
    const size_t slash = repo.find('/');
    if (slash == std::string_view::npos || repo.find('/', slash + 1) != std::string_view::npos || slash == 0) {
        return std::nullopt;
    }
    const std::string shown(name);
    if (!valid_id_part(repo.substr(0, slash)) || !valid_id_part(repo.substr(slash + 1))) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("'{}': the repository id '{}' must be owner/name of letters, digits, '.', '_', '-'",
                                shown, repo));
    }
    if (file.empty() || file == "." || file == ".." || file.find('/') != std::string_view::npos) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("'{}': after the ':' comes a file name at the top of the repository, "
                                "e.g. owner/repo:model-Q4_K_M.gguf",
                                shown));
    }
    if (!valid_id_part(revision)) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("'{}': bad revision '{}'", shown, revision));
    }
    return HubFile{std::string(repo), std::string(file), std::string(revision)};
}

fs::path download_destination(const HubFile& f) {
    const size_t slash = f.repo.find('/');
    std::string project = f.repo.substr(slash + 1);
    if (f.revision != "main") project += "@" + f.revision;  // another revision is another file
    return model_cache_dir() / f.repo.substr(0, slash) / project / f.file;
}

std::vector<fs::path> cache_candidates(std::string_view name) {
    const auto f = parse_hub_name(name);
    if (!f) return {};
    std::vector<fs::path> out;
    const WellKnownModel* known = find_well_known(name);
    if (known && !known->cache_file.empty()) out.push_back(model_cache_dir() / known->cache_file);
    out.push_back(download_destination(*f));
    if (f->revision == "main") out.push_back(model_cache_dir() / f->file);  // where fetch-models.sh puts files
    return out;
}

fs::path resolve_model_name(const std::string& name, const DownloadOptions& options) {
    if (name.empty()) throw Error(ErrorKind::InvalidArgument, "the model name is empty");
    std::error_code ec;
    if (fs::exists(name, ec)) return name;  // a file, or something the loader will refuse by name
    const auto f = parse_hub_name(name);
    if (!f) {
        throw Error(ErrorKind::NotFound,
                    fmt::format("model file '{}' not found (not a file, an 'owner/repo:file.gguf' name or a "
                                "well-known name: {})",
                                name, known_names()));
    }
    const auto candidates = cache_candidates(name);
    for (const auto& c : candidates) {
        if (fs::is_regular_file(c, ec)) return c;
    }
    if (options.offline.value_or(offline_from_env())) {
        std::string where;
        for (const auto& c : candidates) where += (where.empty() ? "" : ", ") + c.string();
        throw Error(ErrorKind::NotFound,
                    fmt::format("model '{}'{} is not in the model cache and offline mode is on "
                                "(HF_HUB_OFFLINE / --offline); looked at {}",
                                name, find_well_known(name) ? fmt::format(" ({}:{})", f->repo, f->file) : "",
                                where));
    }
    return download_file(*f, options);
}

}  // namespace llcuda::hub
