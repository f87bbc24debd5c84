// Where the hub is and how a file's URL is spelled (hub.h). HF_ENDPOINT and HF_HUB_OFFLINE are the
// variables huggingface_hub reads, so a mirror or an offline setting made for it applies here too.
#include <cctype>
#include <cstdlib>
#include <string>

#include "llcuda/hub.h"

namespace llcuda::hub {

std::string hub_endpoint() {
    std::string e = "https://huggingface.co";
    if (const char* env = std::getenv("HF_ENDPOINT"); env && *env) e = env;
    while (!e.empty() && e.back() == '/') e.pop_back();
    return e;
}

namespace {
// RFC 3986 unreserved characters pass; everything else becomes %XX. `keep_slash` for the repo id,
// whose '/' separates owner and name in the URL path.
std::string percent_encode(std::string_view s, bool keep_slash) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
            out += char(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}
}  // namespace

std::string resolve_url(const HubFile& f, std::string_view endpoint) {
    return std::string(endpoint) + "/" + percent_encode(f.repo, true) + "/resolve/" +
           percent_encode(f.revision, false) + "/" + percent_encode(f.file, false);
}

bool offline_from_env() {
    const char* env = std::getenv("HF_HUB_OFFLINE");
    if (!env) return false;
    std::string v;
    for (const char* p = env; *p; ++p) v += char(std::tolower(static_cast<unsigned char>(*p)));
    return v == "1" || v == "true" || v == "yes" || v == "on";
}

}  // namespace llcuda::hub
