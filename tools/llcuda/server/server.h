// `llcuda serve`: an OpenAI-compatible HTTP server over one InferenceEngine (docs/server.md).
// Every request runs in an HTTP worker thread that calls the engine; the engine's scheduler
// batches all of them into shared forward passes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "llcuda/engine.h"

namespace llcuda::server {

struct ServeOptions {
    std::string host = "127.0.0.1";
    int port = 8080;                 // 0: any free port (printed when listening)
    std::string api_key;             // empty: no authentication
    std::string model_id;            // the name /v1/models lists and requests must use
    uint32_t max_queue = 256;        // generations running or waiting; beyond: 503 with Retry-After
    uint32_t max_n = 8;              // choices per request
    size_t max_body_bytes = 4u << 20;
    int timeout_s = 60;              // socket read/write timeout: a silent client loses its worker
    unsigned http_threads = 0;       // 0: max_queue + 16
};

// Serves until SIGINT or SIGTERM; returns the exit code. Throws llcuda::Error when the address
// cannot be bound.
int serve(InferenceEngine& engine, const ServeOptions& options);

}  // namespace llcuda::server
