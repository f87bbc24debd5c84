// An error answered in OpenAI's shape: {"error": {"message", "type", "param", "code"}} with an HTTP
// status (400 bad JSON or parameter, 401 key, 404 route or model, 413 too large, 503 busy).
#pragma once

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace llcuda::server {

struct ApiError : std::runtime_error {
    ApiError(int status_, std::string message, std::string param_ = {}, std::string code_ = {})
        : std::runtime_error(message), status(status_), param(std::move(param_)), code(std::move(code_)) {}
    int status;
    std::string param;  // the request field at fault, if one is
    std::string code;
};

inline const char* error_type(int status) {
    switch (status) {
        case 401: return "authentication_error";
        case 404: return "not_found_error";
        case 413: return "invalid_request_error";
        case 429:
        case 503: return "server_overloaded";
        default: return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

inline nlohmann::json error_json(int status, const std::string& message, const std::string& param = {},
                                 const std::string& code = {}) {
    nlohmann::json e = {{"message", message}, {"type", error_type(status)}, {"param", nullptr}, {"code", nullptr}};
    if (!param.empty()) e["param"] = param;
    if (!code.empty()) e["code"] = code;
    return {{"error", e}};
}

}  // namespace llcuda::server
