// download_file (hub.h) over libcurl, following what the Hugging Face hub does:
//   1. HEAD <endpoint>/<repo>/resolve/<revision>/<file>, redirects not followed. An LFS file (every
//      GGUF) answers 302 to a CDN URL with X-Linked-Etag (its sha256) and X-Linked-Size; a small
//      file answers 200 with its ETag (a git hash, not a sha256) and Content-Length.
//   2. GET the data URL into <destination>.incomplete, with "Range: bytes=N-" when N bytes are
//      already there from an earlier, interrupted attempt; a dropped connection is resumed the same
//      way, up to max_attempts transfers in a row that bring nothing.
//   3. Check the size and (when the hub gave one) the sha256, then rename into place. A mismatch
//      deletes the partial file: resuming it could never give the right bytes.
#include <cctype>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "hub/http_request.h"
#include "hub/partial_file.h"
#include "hub/sha256.h"
#include "llcuda/error.h"
#include "llcuda/hub.h"

namespace llcuda::hub {

namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Announced {
    std::string data_url;   // where the bytes are (the CDN, or the resolve URL itself)
    std::string sha256;     // 64 hex digits, or "" when the hub gave none
    uint64_t size = 0;      // 0: unknown
    bool same_host = true;  // data_url is on the hub: the token may go there
};

std::string header(const HttpResponse& r, const std::string& name) {
    const auto it = r.headers.find(name);
    return it == r.headers.end() ? "" : it->second;
}

// An ETag that is a sha256: W/"<64 hex>" or "<64 hex>" (git blob ETags have 40 digits).
std::string sha256_from_etag(std::string etag) {
    if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
    if (etag.size() != 64) return "";
    for (char& c : etag) {
        if (!std::isxdigit(static_cast<unsigned char>(c))) return "";
        c = char(std::tolower(static_cast<unsigned char>(c)));
    }
    return etag;
}

uint64_t parse_size(const std::string& s) {
    try {
        return s.empty() ? 0 : std::stoull(s);
    } catch (...) {
        return 0;
    }
}

std::vector<std::string> auth_headers(const DownloadOptions& o) {
    std::string token = o.token;
    if (token.empty()) {
        if (const char* env = std::getenv("HF_TOKEN"); env && *env) token = env;
    }
    if (token.empty()) return {};
    return {"Authorization: Bearer " + token};
}

std::string describe(const HubFile& f) { return fmt::format("'{}' of {}", f.file, f.repo); }

[[noreturn]] void throw_http_error(const HubFile& f, const std::string& url, const HttpResponse& r, bool token) {
    const std::string code = header(r, "x-error-code");  // RepoNotFound, EntryNotFound, GatedRepo ...
    const std::string why = code.empty() ? "" : " (" + code + ")";
    if (r.status == 401 || r.status == 403) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("the hub refused {} with HTTP {}{} at {}: {}", describe(f), r.status, why, url,
                                token ? "HF_TOKEN was not accepted for this repository"
                                      : "a gated or private repository needs a token in HF_TOKEN"));
    }
    if (r.status == 404) {
        throw Error(ErrorKind::NotFound,
                    fmt::format("{} not found on the hub{}: {} answered 404", describe(f), why, url));
    }
    throw Error(ErrorKind::Io, fmt::format("the hub answered HTTP {}{} for {} at {}", r.status, why, describe(f), url));
}

// Step 1: where the bytes are, and what they should hash to.
Announced ask_hub(const HubFile& f, const std::string& endpoint, const DownloadOptions& o) {
    const auto auth = auth_headers(o);
    std::string url = resolve_url(f, endpoint);
    for (int hop = 0; hop < 10; ++hop) {
        HttpRequest head;
        head.url = url;
        head.head = true;
        head.headers = auth;
        const HttpResponse r = http_request(head);
        if (r.status == 0) {
            throw Error(ErrorKind::Io, fmt::format("cannot reach the hub at {} for {}: {} (offline? set "
                                                   "HF_HUB_OFFLINE=1 to use the model cache only)",
                                                   endpoint, describe(f), r.transfer_error));
        }
        Announced a;
        a.sha256 = sha256_from_etag(header(r, "x-linked-etag"));
        if (a.sha256.empty()) a.sha256 = sha256_from_etag(header(r, "etag"));
        a.size = parse_size(header(r, "x-linked-size"));
        if (r.status >= 300 && r.status < 400 && !r.redirect_url.empty()) {
            // A redirect carrying X-Linked-* (or leaving the hub) points at the data; one without,
            // on the hub, is a renamed repository: ask again there.
            const bool leaves_hub = r.redirect_url.rfind(endpoint + "/", 0) != 0;
            if (!header(r, "x-linked-etag").empty() || !header(r, "x-linked-size").empty() || leaves_hub) {
                a.data_url = r.redirect_url;
                a.same_host = !leaves_hub;
                return a;
            }
            url = r.redirect_url;
            continue;
        }
        if (r.status == 200) {
            a.data_url = url;
            if (!a.size) a.size = parse_size(header(r, "content-length"));
            return a;
        }
        throw_http_error(f, url, r, !auth.empty());
    }
    throw Error(ErrorKind::Io, fmt::format("the hub redirected {} too many times (last: {})", describe(f), url));
}

// "bytes 100-199/200" -> 100 (the first byte the 206 answer carries).
uint64_t content_range_start(const std::string& s) {
    const size_t space = s.find(' ');
    return parse_size(s.substr(space == std::string::npos ? 0 : space + 1, s.find('-') - space - 1));
}

}  // namespace

bool download_supported() { return true; }

fs::path download_file(const HubFile& f, const DownloadOptions& o) {
    const fs::path destination = download_destination(f);
    if (o.offline.value_or(offline_from_env())) {
        throw Error(ErrorKind::NotFound, fmt::format("{} is not in the model cache ({}) and offline mode is on",
                                                     describe(f), destination.string()));
    }
    const std::string endpoint = o.endpoint.empty() ? hub_endpoint() : o.endpoint;
    const Announced a = ask_hub(f, endpoint, o);

    PartialFile part(destination);
    std::error_code ec;
    if (fs::exists(destination, ec)) return destination;  // another process finished while we waited
    if (a.size && part.size() > a.size) part.truncate();

    const auto auth = a.same_host ? auth_headers(o) : std::vector<std::string>{};
    Clock::time_point last_report{};
    bool stopped = false;
    int failures = 0;  // transfers in a row that brought nothing
    std::string last_error;
    while (!(a.size && part.size() == a.size)) {
        const uint64_t offset = part.size();
        bool checked_start = false;
        HttpRequest get;
        get.url = a.data_url;
        get.follow_redirects = true;
        get.headers = auth;
        if (offset) get.headers.push_back(fmt::format("Range: bytes={}-", offset));
        get.on_body = [&](const HttpResponse& answer, const char* data, size_t n) {
            if (!checked_start) {
                checked_start = true;
                // 200: the server ignored the Range and sends everything; 206 from elsewhere than
                // where we stopped would splice wrong bytes in.
                const std::string range = header(answer, "content-range");
                if (!offset || answer.status != 206 || range.empty() || content_range_start(range) != offset) {
                    part.truncate();
                }
            }
            part.append(data, n);
            const auto now = Clock::now();
            if (o.progress && now - last_report >= std::chrono::milliseconds(100)) {
                last_report = now;
                if (!o.progress(part.size(), a.size)) {
                    stopped = true;
                    return false;
                }
            }
            return true;
        };
        const HttpResponse r = http_request(get);
        if (stopped) {
            throw Error(ErrorKind::Io, fmt::format("the download of {} was stopped at {} bytes; it resumes from "
                                                   "there next time ({})",
                                                   describe(f), part.size(), part.path().string()));
        }
        if (r.status == 416 && offset) {  // the partial file is not a prefix of this file
            part.truncate();
            continue;
        }
        if (r.status >= 400 && r.status < 500) throw_http_error(f, a.data_url, r, !auth.empty());
        if (r.transfer_ok && r.status >= 200 && r.status < 300 && (!a.size || part.size() >= a.size)) break;
        last_error = r.transfer_ok ? fmt::format("HTTP {}", r.status) : r.transfer_error;
        failures = r.body_bytes ? 0 : failures + 1;
        if (failures >= o.max_attempts) {
            throw Error(ErrorKind::Io, fmt::format("downloading {} from {} failed {} times in a row ({}); the {} "
                                                   "bytes received are kept in {} and the next attempt resumes",
                                                   describe(f), a.data_url, failures, last_error, part.size(),
                                                   part.path().string()));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200 * failures));
    }
    if (o.progress) o.progress(part.size(), a.size ? a.size : part.size());

    if (a.size && part.size() != a.size) {
        part.discard();
        throw Error(ErrorKind::FormatError, fmt::format("downloaded {} has {} bytes, the hub announced {}; the "
                                                        "download was deleted",
                                                        describe(f), part.size(), a.size));
    }
    if (!a.sha256.empty()) {
        const std::string got = sha256_file(part.path());
        if (got != a.sha256) {
            part.discard();
            throw Error(ErrorKind::FormatError,
                        fmt::format("downloaded {} does not match the sha256 the hub announced (expected {}, got "
                                    "{}); the download was deleted, nothing was written to {}",
                                    describe(f), a.sha256, got, destination.string()));
        }
    }
    part.commit();
    return destination;
}

}  // namespace llcuda::hub
