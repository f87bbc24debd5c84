// llcuda perplexity -m MODEL -f TEXT [--ctx N] [--chunks K] [--save-logprobs F | --kl-base F]
//
// Perplexity as llama.cpp's perplexity tool computes it (llcuda/perplexity.h): chunks of N tokens,
// the second half of each scored. --save-logprobs writes the scored positions' log-probability rows
// so that a quantized model can be compared with --kl-base: mean KL-divergence of its distribution
// from the saved one and how often both pick the same top token.
#include <fmt/format.h>

#include "commands.h"
#include "default_model.h"
#include "generation_flags.h"
#include "read_file.h"
#include "llcuda/engine.h"
#include "llcuda/perplexity.h"

namespace llcuda::cli {

namespace {

struct PerplexityCliOptions {
    std::string model, text_file, save_path, kl_base_path;
    uint32_t ctx = PerplexityOptions{}.chunk_tokens;
    uint32_t max_chunks = 0;
    unsigned threads = 0;
    Backend backend = Backend::Auto;
};

}  // namespace

void register_perplexity(CLI::App& app, CommandSlot& slot) {
    auto o = std::make_shared<PerplexityCliOptions>();
    slot.app = app.add_subcommand("perplexity", "Perplexity of a model on a text file (and KL-divergence to a base)");
    slot.app->add_option("-m,--model", o->model, "GGUF model (default: the built-in model)");
    slot.app->add_option("-f,--file", o->text_file, "Text file")->required();
    slot.app->add_option("-c,--ctx", o->ctx, "Tokens per chunk")->capture_default_str();
    slot.app->add_option("--chunks", o->max_chunks, "Score at most this many chunks (0: all)");
    slot.app->add_option("-t,--threads", o->threads, "CPU threads");
    slot.app->add_option("--backend", o->backend, "auto (the GPU when there is a usable one), cpu or cuda")
        ->transform(CLI::CheckedTransformer(backend_names(), CLI::ignore_case))
        ->default_str("auto");
    slot.app->add_option("--save-logprobs", o->save_path, "Write the scored positions' log-probabilities");
    slot.app->add_option("--kl-base", o->kl_base_path, "Compare with log-probabilities saved from a base model");
    slot.run = [o]() {
        const std::string text = read_file(o->text_file);
        InferenceEngine engine;
        LoadOptions load;
        load.context_length = o->ctx;
        load.n_threads = o->threads;
        load.backend = o->backend;
        engine.load_model(resolve_model(o->model), load);

        PerplexityOptions options;
        options.chunk_tokens = o->ctx;
        options.max_chunks = o->max_chunks;
        options.save_logprobs = o->save_path;
        options.kl_base = o->kl_base_path;
        options.on_chunk = [](uint32_t c, uint32_t n, double ppl) {
            fmt::print(stderr, "[chunk {}/{}] perplexity so far {:.4f}\n", c + 1, n, ppl);
        };
        const PerplexityResult r = compute_perplexity(engine, text, options);
        fmt::print("perplexity: {:.4f} over {} scored tokens ({} chunks of {})\n", r.perplexity, r.n_scored, r.n_chunks,
                   r.chunk_tokens);
        if (r.kl) {
            fmt::print("KL-divergence from base: {:.6f}\nsame top token: {:.2f} %\n", r.kl->mean,
                       100.0 * r.kl->same_top_fraction);
        }
        return 0;
    };
}

}  // namespace llcuda::cli
