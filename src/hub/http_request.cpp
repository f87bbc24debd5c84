#include "hub/http_request.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

namespace llcuda::hub {

namespace {

struct Transfer {
    const HttpRequest* request;
    HttpResponse* response;
    CURL* curl;
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::string line(data, size * n);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
    if (line.rfind("HTTP/", 0) == 0) {
        t->response->headers.clear();  // a new answer (after a redirect): keep only the last one's
    } else if (const size_t colon = line.find(':'); colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        size_t start = colon + 1;
        while (start < line.size() && line[start] == ' ') ++start;
        t->response->headers[name] = line.substr(start);
    }
    return size * n;
}

size_t on_write(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    long status = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    const size_t bytes = size * n;
    if (status == 200 || status == 206) {
        t->response->status = status;
        if (t->request->on_body && !t->request->on_body(*t->response, data, bytes)) {
            t->response->aborted = true;
            return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
        }
        t->response->body_bytes += bytes;
    } else if (t->response->error_body.size() < 2000) {
        t->response->error_body.append(data, std::min<size_t>(bytes, 2000 - t->response->error_body.size()));
    }
    return bytes;
}

}  // namespace

HttpResponse http_request(const HttpRequest& request) {
    static std::once_flag global_init;  // curl_global_init is not thread-safe: once, before any use
    std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });

    HttpResponse response;
    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), &curl_easy_cleanup);
    if (!curl) {
        response.transfer_error = "libcurl could not start a transfer";
        return response;
    }
    Transfer t{&request, &response, curl.get()};
    curl_slist* headers = nullptr;
    for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
    std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(headers, &curl_slist_free_all);
    char error[CURL_ERROR_SIZE] = {};

    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "llcuda/0.1");
    curl_easy_setopt(c, CURLOPT_NOBODY, request.head ? 1L : 0L);
    // libcurl does not send a custom Authorization header to another host after a redirect, so the
    // hub token never reaches the CDN the hub redirects to.
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM in a multi-threaded program
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    // A transfer slower than 1 byte/s for 60 s is dead: fail it so that the caller resumes.
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);

    const CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    if (char* location = nullptr; curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location) {
        response.redirect_url = location;
    }
    response.transfer_ok = rc == CURLE_OK;
    if (rc != CURLE_OK) response.transfer_error = error[0] ? error : curl_easy_strerror(rc);
    return response;
}

}  // namespace llcuda::hub
