// One HTTP request through libcurl, the part of the downloader that speaks HTTP (download.cpp holds
// the hub's protocol on top). Only built when libcurl is found (sources.cmake).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace llcuda::hub {

struct HttpResponse;

struct HttpRequest {
    std::string url;
    std::vector<std::string> headers;  // "Name: value"
    bool head = false;                 // HEAD instead of GET
    bool follow_redirects = false;
    // Body bytes of a 200 or 206 answer, with the answer so far (status, headers); return false to
    // abort the transfer. Bodies of other answers (an error page) go to HttpResponse::error_body.
    std::function<bool(const HttpResponse& answer, const char* data, size_t n)> on_body;
};

struct HttpResponse {
    long status = 0;                             // 0 when no answer arrived
    std::map<std::string, std::string> headers;  // of the last answer, names in lower case
    std::string redirect_url;                    // absolute Location of a 3xx answer not followed
    std::string error_body;                      // the start of a non-2xx answer's body
    bool transfer_ok = false;                    // the whole body arrived
    bool aborted = false;                        // on_body returned false
    std::string transfer_error;                  // libcurl's message when !transfer_ok
    uint64_t body_bytes = 0;                     // bytes given to on_body
};

HttpResponse http_request(const HttpRequest& request);

}  // namespace llcuda::hub
