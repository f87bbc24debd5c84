#include "server.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <pthread.h>
#include <sys/socket.h>

#include "api_error.h"
#include "client_probe.h"
#include "llcuda/error.h"
#include "metrics.h"
#include "openai_request.h"
#include "openai_response.h"
#include "tool_calls.h"

namespace llcuda::server {

namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// The status a non-streamed request whose client disconnected is counted under in /metrics (nginx's
// "client closed request"); no completion is built for it.
constexpr int kClientClosedRequest = 499;

// cpp-httplib listens with a backlog of 5, fixed when the library was compiled (Debian ships it as
// a shared library, so defining CPPHTTPLIB_LISTEN_BACKLOG here changes nothing): a burst of clients
// connecting at once (the serving benchmark's 256) overflowed the accept queue, and the kernel made
// them retry their handshakes (a second or more each, some timed out) or reset them. listen() again
// on the bound socket raises the limit; Linux caps it at net.core.somaxconn.
constexpr int kListenBacklog = 4096;

// Whether fd is the socket listening on `port` (the one cpp-httplib bound); if so, widens its
// accept queue to kListenBacklog.
bool widen_accept_queue(int fd, int port) {
    int accepting = 0;
    socklen_t len = sizeof(accepting);
    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0 || !accepting) return false;
    sockaddr_storage addr{};
    len = sizeof(addr);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return false;
    const int bound = addr.ss_family == AF_INET    ? ntohs(reinterpret_cast<const sockaddr_in&>(addr).sin_port)
                      : addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6&>(addr).sin6_port)
                                                   : -1;
    return bound == port && ::listen(fd, kListenBacklog) == 0;
}

void send_json(httplib::Response& res, int status, const Json& j) {
    res.status = status;
    res.set_content(dump(j), "application/json");
}

void send_error(httplib::Response& res, const ApiError& e) {
    send_json(res, e.status, error_json(e.status, e.what(), e.param, e.code));
    if (e.status == 503) res.set_header("Retry-After", "1");
}

// Compares without an early exit: the time taken depends on the length of the guess only, never on
// where it first differs from the key (which must not be empty).
bool constant_time_equal(const std::string& given, const std::string& key) {
    size_t diff = given.size() ^ key.size();
    for (size_t i = 0; i < given.size(); ++i) diff |= uint8_t(given[i]) ^ uint8_t(key[i % key.size()]);
    return diff == 0;
}

ApiError engine_error(const Error& e) {
    switch (e.kind()) {
        case ErrorKind::InvalidArgument:
        case ErrorKind::Unsupported:
        case ErrorKind::FormatError: return ApiError(400, e.what());
        case ErrorKind::OutOfMemory: return ApiError(503, e.what());
        default: return ApiError(500, e.what());
    }
}

class Server {
public:
    Server(InferenceEngine& engine, const ServeOptions& o) : engine_(engine), o_(o) {
        const ModelInfo info = engine.model_info();
        limits_.n_ctx = info.context_length;
        limits_.max_n = o.max_n;
        created_ = std::time(nullptr);
    }

    int run();

private:
    // Reserves room for `n` generations; false when the queue is full.
    bool admit(uint32_t n) {
        uint32_t cur = in_flight_.load();
        do {
            if (cur + n > o_.max_queue) return false;
        } while (!in_flight_.compare_exchange_weak(cur, cur + n));
        return true;
    }
    void release(uint32_t n) { in_flight_ -= n; }

    void completions(const httplib::Request& req, httplib::Response& res, bool chat);
    // Runs every choice of `r` at once (one thread each), passing streamed pieces to on_piece
    // (choice index, piece; false cancels that choice). still_wanted is asked every 50 ms while they
    // run, queued or not (false cancels them all: the client has gone). Errors come back per choice.
    void run_choices(const CompletionRequest& r, const std::function<bool(size_t, const StreamPiece&)>& on_piece,
                     const std::function<bool()>& still_wanted, std::vector<InferenceResult>& results,
                     std::vector<std::exception_ptr>& errors);
    // Writes the whole event stream; false when the client has gone (httplib then stops asking).
    bool stream(const CompletionRequest& r, const ResponseIds& ids, ClientProbe& client, httplib::DataSink& sink);

    InferenceEngine& engine_;
    ServeOptions o_;
    Limits limits_;
    Metrics metrics_;
    std::atomic<uint32_t> in_flight_{0};
    std::atomic<uint64_t> next_id_{1};
    int64_t created_ = 0;
};

void Server::run_choices(const CompletionRequest& r,
                         const std::function<bool(size_t, const StreamPiece&)>& on_piece,
                         const std::function<bool()>& still_wanted, std::vector<InferenceResult>& results,
                         std::vector<std::exception_ptr>& errors) {
    const size_t total = r.prompts.size() * r.n;
    results.assign(total, {});
    errors.assign(total, nullptr);
    const auto t_arrival = Clock::now();
    auto one = [&](size_t k) {
        SamplingParams p = r.params;
        if (p.seed) p.seed = *p.seed + k % r.n;  // choices of one prompt differ, reproducibly
        bool first = true;
        auto last = t_arrival;
        const PieceCallback cb = [&](const StreamPiece& piece) {
            const auto now = Clock::now();
            if (!piece.tokens.empty()) {
                const double dt = std::chrono::duration<double>(now - last).count();
                if (first) {
                    metrics_.time_to_first_token(dt);
                    first = false;
                } else {
                    for (size_t t = 0; t < piece.tokens.size(); ++t) metrics_.inter_token(dt / double(piece.tokens.size()));
                }
                last = now;
            }
            return on_piece ? on_piece(k, piece) : true;
        };
        try {
            results[k] = engine_.generate(r.prompts[k / r.n], p, cb, still_wanted);
            metrics_.tokens(results[k].n_prompt_tokens, results[k].n_generated_tokens);
        } catch (...) {
            errors[k] = std::current_exception();
        }
    };
    std::vector<std::thread> threads;
    for (size_t k = 1; k < total; ++k) threads.emplace_back(one, k);
    one(0);
    for (auto& t : threads) t.join();
}

void Server::completions(const httplib::Request& req, httplib::Response& res, bool chat) {
    const char* route = chat ? "chat_completions" : "completions";
    try {
        const Json body = Json::parse(req.body, nullptr, false);
        if (body.is_discarded()) throw ApiError(400, "the request body is not valid JSON");
        if (body.is_object() && body.contains("model") && body["model"].is_string() && body["model"] != o_.model_id) {
            throw ApiError(404, fmt::format("the model '{}' does not exist (this server serves '{}')",
                                            body["model"].get<std::string>(), o_.model_id),
                           "model", "model_not_found");
        }
        auto r = std::make_shared<CompletionRequest>(parse_completion_request(body, chat, engine_, limits_));
        const uint32_t total = uint32_t(r->prompts.size() * r->n);
        if (total > o_.max_queue) {
            throw ApiError(400, fmt::format("the request asks for {} generations (prompts x n) but the server queues at most {}",
                                            total, o_.max_queue), "n");
        }
        if (!admit(total)) throw ApiError(503, "the server is busy (the request queue is full); retry shortly");
        ResponseIds ids{fmt::format("{}-{:x}{:08x}", chat ? "chatcmpl" : "cmpl", next_id_++, uint32_t(std::rand())),
                        o_.model_id, int64_t(std::time(nullptr))};
        // A client that disconnects while its request waits in the queue (or computes without
        // output: a non-streamed reply) is noticed within 50 ms and its generations cancelled.
        auto client = std::make_shared<ClientProbe>(req.local_addr, req.local_port, req.remote_addr, req.remote_port);
        if (!r->stream) {
            struct Release {
                Server* s;
                uint32_t n;
                ~Release() { s->release(n); }
            } release{this, total};
            std::vector<InferenceResult> results;
            std::vector<std::exception_ptr> errors;
            run_choices(*r, nullptr, [&client] { return !client->gone(); }, results, errors);
            for (auto& e : errors) {
                if (e) std::rethrow_exception(e);
            }
            const bool cancelled = std::any_of(results.begin(), results.end(), [](const InferenceResult& x) {
                return x.finish_reason == FinishReason::Cancelled;
            });
            if (cancelled) {  // only a client gone cancels a non-streamed request: nobody reads a reply
                res.status = kClientClosedRequest;
                metrics_.request_done(route, kClientClosedRequest);
                return;
            }
            send_json(res, 200, completion_json(engine_, *r, ids, results));
        } else {
            res.status = 200;
            res.set_header("Cache-Control", "no-cache");
            res.set_chunked_content_provider(
                "text/event-stream",
                [this, r, ids, client](size_t, httplib::DataSink& sink) { return stream(*r, ids, *client, sink); },
                [this, total](bool) { release(total); });
        }
        metrics_.request_done(route, 200);
    } catch (const ApiError& e) {
        send_error(res, e);
        metrics_.request_done(route, e.status);
    } catch (const Error& e) {
        const ApiError a = engine_error(e);
        send_error(res, a);
        metrics_.request_done(route, a.status);
    } catch (const std::exception& e) {
        send_error(res, ApiError(500, e.what()));
        metrics_.request_done(route, 500);
    }
}

bool Server::stream(const CompletionRequest& r, const ResponseIds& ids, ClientProbe& client, httplib::DataSink& sink) {
    std::mutex write_mutex;
    std::atomic<bool> client_gone{false};
    auto send = [&](const Json& j) {  // under write_mutex
        if (client_gone) return false;
        const std::string line = "data: " + dump(j) + "\n\n";
        if (!sink.write(line.data(), line.size())) client_gone = true;
        return !client_gone.load();
    };
    const size_t total = r.prompts.size() * r.n;
    std::vector<std::string> buffered(total);   // tool-call replies are parsed whole at the end
    std::vector<size_t> text_offset(total, 0);  // completions logprobs' text_offset
    {
        std::lock_guard lock(write_mutex);
        if (r.chat) {
            for (size_t k = 0; k < total; ++k) {
                send(chunk_json(r, ids, {{"index", k}, {"delta", {{"role", "assistant"}, {"content", ""}}},
                                         {"logprobs", nullptr}, {"finish_reason", nullptr}}));
            }
        }
    }
    auto on_piece = [&](size_t k, const StreamPiece& piece) {
        std::lock_guard lock(write_mutex);
        if (client_gone) return false;
        const std::string text(piece.text);
        if (r.tools) {
            buffered[k] += text;
            return true;
        }
        if (text.empty() && (!r.logprobs || piece.logprobs.empty())) return true;
        Json lp;
        if (r.logprobs) {
            lp = logprobs_json(engine_, {piece.logprobs.begin(), piece.logprobs.end()}, r.top_logprobs, r.chat,
                               text_offset[k]);
        }
        text_offset[k] += text.size();
        Json choice = r.chat ? Json{{"index", k}, {"delta", {{"content", text}}}, {"logprobs", lp}, {"finish_reason", nullptr}}
                             : Json{{"index", k}, {"text", text}, {"logprobs", lp}, {"finish_reason", nullptr}};
        return send(chunk_json(r, ids, choice));
    };
    std::vector<InferenceResult> results;
    std::vector<std::exception_ptr> errors;
    // A failed write (one choice's) or a closed socket (none written yet: still queued, or a tools
    // reply held back) cancels every choice.
    run_choices(r, on_piece, [&] { return !client_gone && !(client_gone = client.gone()); }, results, errors);
    std::lock_guard lock(write_mutex);
    if (client_gone) return false;  // the choices were cancelled; their blocks are back in the pool
    for (size_t k = 0; k < total; ++k) {
        if (errors[k]) {
            std::string message = "generation failed";
            try {
                std::rethrow_exception(errors[k]);
            } catch (const std::exception& e) {
                message = e.what();
            }
            send(error_json(500, message));
            continue;
        }
        std::string finish = finish_reason_text(results[k].finish_reason);
        if (r.chat && r.tools) {
            const ParsedReply reply = parse_tool_calls(buffered[k]);
            Json delta = Json::object();
            if (!reply.content.empty()) delta["content"] = reply.content;
            if (!reply.calls.empty()) {
                delta["tool_calls"] = tool_calls_json(reply, true);
                finish = "tool_calls";
            }
            send(chunk_json(r, ids, {{"index", k}, {"delta", delta}, {"logprobs", nullptr}, {"finish_reason", nullptr}}));
        }
        Json choice = r.chat ? Json{{"index", k}, {"delta", Json::object()}, {"logprobs", nullptr}, {"finish_reason", finish}}
                             : Json{{"index", k}, {"text", ""}, {"logprobs", nullptr}, {"finish_reason", finish}};
        send(chunk_json(r, ids, choice));
    }
    if (r.include_usage) {
        Json last = chunk_json(r, ids, nullptr);
        last["usage"] = usage_json(r, results);
        send(last);
    }
    static const std::string done = "data: [DONE]\n\n";
    if (!client_gone) sink.write(done.data(), done.size());
    sink.done();
    return true;
}

int Server::run() {
    httplib::Server http;
    const unsigned n_threads = o_.http_threads ? o_.http_threads : o_.max_queue + 16;
    http.new_task_queue = [n_threads] { return new httplib::ThreadPool(n_threads); };
    http.set_payload_max_length(o_.max_body_bytes);
    http.set_read_timeout(o_.timeout_s, 0);
    http.set_write_timeout(o_.timeout_s, 0);
    http.set_keep_alive_timeout(5);
    // The listening socket, to widen its accept queue once bound (widen_accept_queue); the hook
    // runs in this thread, inside bind_to_port.
    int listening_fd = -1;
    http.set_socket_options([&listening_fd](socket_t sock) {
        httplib::default_socket_options(sock);
        listening_fd = sock;
    });

    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        if (o_.api_key.empty() || req.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
        const std::string auth = req.get_header_value("Authorization");
        const std::string prefix = "Bearer ";
        const bool ok = auth.size() > prefix.size() && auth.compare(0, prefix.size(), prefix) == 0 &&
                        constant_time_equal(auth.substr(prefix.size()), o_.api_key);
        if (ok) return httplib::Server::HandlerResponse::Unhandled;
        send_error(res, ApiError(401, "missing or wrong API key (send Authorization: Bearer KEY)", "", "invalid_api_key"));
        metrics_.request_done("auth", 401);
        return httplib::Server::HandlerResponse::Handled;
    });
    // Statuses httplib answers itself (no route, body too large, malformed request) get OpenAI's shape.
    http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return;
        const int s = res.status;
        const std::string message = s == 404   ? "no such route"
                                    : s == 413 ? "the request body is too large"
                                               : fmt::format("HTTP error {}", s);
        send_json(res, s, error_json(s, message));
    });

    http.Post("/v1/chat/completions", [this](const httplib::Request& q, httplib::Response& s) { completions(q, s, true); });
    http.Post("/v1/completions", [this](const httplib::Request& q, httplib::Response& s) { completions(q, s, false); });
    http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
        const ModelInfo info = engine_.model_info();
        send_json(res, 200,
                  {{"object", "list"},
                   {"data", Json::array({{{"id", o_.model_id},
                                          {"object", "model"},
                                          {"created", created_},
                                          {"owned_by", "llcuda"},
                                          {"meta", {{"architecture", info.architecture},
                                                    {"n_ctx", info.context_length},
                                                    {"n_vocab", info.n_vocab},
                                                    {"n_params", info.n_parameters},
                                                    {"backend", info.backend}}}}})}});
    });
    http.Get("/health", [](const httplib::Request&, httplib::Response& res) { send_json(res, 200, {{"status", "ok"}}); });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
        res.set_content(metrics_.prometheus(engine_.scheduler_stats(), in_flight_.load()), "text/plain; version=0.0.4");
    });
    http.Post("/tokenize", [this](const httplib::Request& req, httplib::Response& res) {
        try {
            const Json body = Json::parse(req.body, nullptr, false);
            if (!body.is_object()) throw ApiError(400, "the request body must be a JSON object");
            const auto it = body.find("content");
            if (it == body.end() || !it->is_string()) throw ApiError(400, "'content' must be a string", "content");
            bool add_special = false;
            if (body.contains("add_special")) {
                if (!body["add_special"].is_boolean()) throw ApiError(400, "'add_special' must be a boolean", "add_special");
                add_special = body["add_special"];
            }
            send_json(res, 200, {{"tokens", engine_.tokenize(it->get<std::string>(), add_special)}});
        } catch (const ApiError& e) {
            send_error(res, e);
        }
    });
    http.Post("/detokenize", [this](const httplib::Request& req, httplib::Response& res) {
        try {
            const Json body = Json::parse(req.body, nullptr, false);
            if (!body.is_object()) throw ApiError(400, "the request body must be a JSON object");
            const auto it = body.find("tokens");
            if (it == body.end() || !it->is_array()) throw ApiError(400, "'tokens' must be an array of token ids", "tokens");
            std::vector<int32_t> ids;
            const int64_t n_vocab = engine_.model_info().n_vocab;
            for (const auto& t : *it) {
                const bool in_range = t.is_number_integer() && (t.is_number_unsigned()
                                                                     ? t.get<uint64_t>() < uint64_t(n_vocab)
                                                                     : t.get<int64_t>() >= 0 && t.get<int64_t>() < n_vocab);
                if (!in_range) {
                    throw ApiError(400, fmt::format("'tokens' holds {}, not a token id below {}", t.dump(), n_vocab), "tokens");
                }
                ids.push_back(int32_t(t.get<int64_t>()));
            }
            send_json(res, 200, {{"content", engine_.detokenize(ids)}});
        } catch (const ApiError& e) {
            send_error(res, e);
        }
    });

    const int port = o_.port == 0 ? http.bind_to_any_port(o_.host) : (http.bind_to_port(o_.host, o_.port) ? o_.port : -1);
    if (port < 0) throw Error(ErrorKind::InvalidArgument, fmt::format("cannot listen on {}:{}", o_.host, o_.port));
    if (!widen_accept_queue(listening_fd, port)) {
        throw Error(ErrorKind::Internal,
                    fmt::format("cannot widen the accept queue of the socket listening on {}:{}", o_.host, port));
    }

    // SIGINT/SIGTERM stop the server from a thread of our own (they are blocked everywhere else).
    std::thread signals([&http] {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        int sig = 0;
        sigwait(&set, &sig);
        http.stop();
    });
    signals.detach();
    fmt::print(stderr, "llcuda serve: listening on http://{}:{} (model '{}', context {}, queue {})\n", o_.host, port,
               o_.model_id, limits_.n_ctx, o_.max_queue);
    std::fflush(stderr);
    http.listen_after_bind();
    fmt::print(stderr, "llcuda serve: stopped\n");
    return 0;
}

}  // namespace

int serve(InferenceEngine& engine, const ServeOptions& options) {
    Server s(engine, options);
    return s.run();
}

}  // namespace llcuda::server
