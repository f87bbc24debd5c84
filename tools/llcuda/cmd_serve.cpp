// llcuda serve -m MODEL [--host 127.0.0.1] [--port 8080] [-c CTX] [--max-seqs N] [--kv-memory F] [--api-key KEY]:
// an OpenAI-compatible HTTP server (docs/server.md). The server itself lives in server/.
#include <csignal>
#include <filesystem>

#include <fmt/format.h>
#include <pthread.h>

#include "commands.h"
#include "default_model.h"
#include "llcuda/devices.h"
#include "llcuda/engine.h"
#include "llcuda/error.h"
#include "server/server.h"

namespace llcuda::cli {

namespace {

// A server should use the card: unless --kv-blocks or --kv-memory says otherwise, the KV pool on
// CUDA takes 90% of the GPU memory left after loading (the rest: headroom for the workspaces).
constexpr float kDefaultKvMemory = 0.9f;

struct ServeFlags {
    std::string model;
    std::string alias;
    std::string backend = "auto";
    uint32_t ctx = 0;
    uint32_t max_seqs = 0;
    uint32_t kv_blocks = 0;
    float kv_memory = kDefaultKvMemory;
    bool kv_memory_given = false;  // --kv-memory on the command line (not the default)
    uint32_t prefill_chunk = 0;
    unsigned threads = 0;
    bool no_prefix_cache = false;
    bool f16_weights = false;
    server::ServeOptions server;
};

Backend parse_backend(const std::string& name) {
    if (name == "auto") return Backend::Auto;
    if (name == "cpu") return Backend::Cpu;
    if (name == "cuda") return Backend::Cuda;
    throw Error(ErrorKind::InvalidArgument, fmt::format("unknown backend '{}' (auto, cpu or cuda)", name));
}

// One start-up line: how large the KV pool came out and why.
void log_kv_pool(const InferenceEngine& engine, const LoadOptions& o, bool kv_memory_given) {
    const ModelInfo info = engine.model_info();
    const SchedulerStats st = engine.scheduler_stats();
    const uint64_t tokens = uint64_t(st.kv_blocks_total) * o.kv_block_size;
    const bool cuda = info.backend == "cuda";
    std::string why = "--max-seqs contexts";
    if (o.kv_blocks) {
        why = "--kv-blocks";
    } else if (cuda && o.kv_memory_fraction > 0) {
        why = fmt::format("--kv-memory {:.2f} of the GPU memory free after loading", o.kv_memory_fraction);
    }
    fmt::print(stderr, "llcuda serve: KV pool of {} blocks x {} = {} tokens ({} contexts of {}), {:.2f} GiB ({}){}\n",
               st.kv_blocks_total, o.kv_block_size, tokens, tokens / info.context_length, info.context_length,
               double(tokens * info.kv_bytes_per_position) / double(1ull << 30), why,
               !cuda && kv_memory_given && o.kv_memory_fraction > 0 ? "; --kv-memory is ignored on the CPU" : "");
}

int run_serve(ServeFlags& f) {
    // Block SIGINT/SIGTERM before any thread starts, so that only the server's signal thread
    // (sigwait) receives them and stops the server cleanly.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    const auto path = resolve_model(f.model);
    LoadOptions o;
    o.backend = parse_backend(f.backend);
    if (f.kv_memory_given && f.kv_memory > 0 && o.backend == Backend::Cpu) {
        throw Error(ErrorKind::InvalidArgument, "--kv-memory sizes the KV pool from free GPU memory; on the CPU "
                                                "use --kv-blocks or --max-seqs");
    }
    o.context_length = f.ctx;
    o.n_threads = f.threads;
    o.kv_blocks = f.kv_blocks;
    o.kv_memory_fraction = f.kv_blocks ? 0 : f.kv_memory;  // the CPU ignores it (--backend auto without a GPU)
    o.prefill_chunk = f.prefill_chunk;
    o.prefix_cache = !f.no_prefix_cache;
    o.f16_weight_copies = f.f16_weights;
    // Serving is about many users: the CPU's one-sequence default would serialize them.
    const bool cpu = o.backend == Backend::Cpu || (o.backend == Backend::Auto && query_gpus().devices.empty());
    o.max_sequences = f.max_seqs ? f.max_seqs : (cpu ? 4 : 0);
    InferenceEngine engine;
    engine.load_model(path, o);
    log_kv_pool(engine, o, f.kv_memory_given);
    f.server.model_id = f.alias.empty() ? path.stem().string() : f.alias;
#ifdef LLCUDA_HAVE_HTTPLIB
    return server::serve(engine, f.server);
#else
    throw Error(ErrorKind::Unsupported, "this llcuda was built without cpp-httplib (install libcpp-httplib-dev and rebuild)");
#endif
}

}  // namespace

void register_serve(CLI::App& app, CommandSlot& slot) {
    auto f = std::make_shared<ServeFlags>();
    slot.app = app.add_subcommand("serve", "Serve a model over an OpenAI-compatible HTTP API");
    auto* a = slot.app;
    a->add_option("-m,--model", f->model, "GGUF model (default: the built-in default model)");
    a->add_option("--alias", f->alias, "Model name the API reports and expects (default: the file name)");
    a->add_option("--host", f->server.host, "Address to listen on")->capture_default_str();
    a->add_option("--port", f->server.port, "Port (0: any free port)")->capture_default_str()->check(CLI::Range(0, 65535));
    a->add_option("-c,--ctx-size", f->ctx, "Context length per request (0: the model's, at most 4096)");
    a->add_option("--max-seqs", f->max_seqs, "Sequences computed together (0: 4 on the CPU, 8 on CUDA)");
    auto* kv_blocks = a->add_option("--kv-blocks", f->kv_blocks,
                                    "KV-cache pool size in blocks of 16 positions (0: as --kv-memory says)");
    auto* kv_memory = a->add_option("--kv-memory", f->kv_memory,
                                    "Share of the GPU memory free after loading that the KV pool takes (CUDA; "
                                    "0: max-seqs contexts)")
                          ->capture_default_str()
                          ->check(CLI::Range(0.0f, 1.0f));
    kv_blocks->excludes(kv_memory);
    a->add_option("--prefill-chunk", f->prefill_chunk, "Prompt tokens per forward pass (0: backend default)");
    a->add_flag("--no-prefix-cache", f->no_prefix_cache, "Do not reuse the KV cache of earlier prompts");
    a->add_flag("--f16-weights", f->f16_weights,
                "CUDA: also keep each quantized matrix as f16 (2 bytes a weight) for faster prompt processing");
    a->add_option("--backend", f->backend, "auto, cpu or cuda")->capture_default_str();
    a->add_option("-t,--threads", f->threads, "CPU threads (0: all cores)");
    a->add_option("--api-key", f->server.api_key, "Require 'Authorization: Bearer KEY' on every route but /health");
    a->add_option("--max-queue", f->server.max_queue, "Generations running or queued before 503")->capture_default_str();
    a->add_option("--max-n", f->server.max_n, "Most choices (n) per request")->capture_default_str();
    a->add_option("--max-body", f->server.max_body_bytes, "Largest request body in bytes (413 beyond)")->capture_default_str();
    a->add_option("--timeout", f->server.timeout_s, "Socket read/write timeout in seconds")->capture_default_str();
    slot.run = [f, kv_memory] {
        f->kv_memory_given = kv_memory->count() > 0;
        return run_serve(*f);
    };
}

}  // namespace llcuda::cli
