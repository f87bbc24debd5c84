// GenerationFlags: the flags of `run` and `chat`, with llama.cpp's names as aliases.
#include <algorithm>
#include <limits>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "generation_flags.h"
#include "llcuda/error.h"
#include "read_file.h"
#include "text_input.h"

namespace llcuda::cli {

void GenerationFlags::add_to(CLI::App* app, int64_t default_n_predict) {
    n_predict = default_n_predict;
    app->add_option("-m,--model", model, "GGUF model (default: the built-in SmolLM2-135M-Instruct)");
    app->add_option("-c,--ctx-size,--ctx", ctx, "Context length (0: the model's, at most 4096)")->capture_default_str();
    app->add_flag("--force-ctx", force_ctx, "Allow -c above 4x the model's training context");
    app->add_option("-t,--threads", threads, "CPU threads (0 or -1: all cores)")->capture_default_str();
    app->add_option("--backend", backend, "auto (the GPU when there is a usable one), cpu or cuda")
        ->transform(CLI::CheckedTransformer(backend_names(), CLI::ignore_case))
        ->default_str("auto");
    app->add_option("--kv-type", kv_type, "KV-cache element type on the GPU: f16 or q8_0")
        ->transform(CLI::CheckedTransformer(kv_type_names(), CLI::ignore_case))
        ->default_str("f16");
    app->add_option("--n-gpu-layers", n_gpu_layers, "-ngl: 0 runs on the CPU; any other number (or all) on the GPU");
    app->add_option("--flash-attn", flash_attn, "-fa [on|off|auto]: accepted; llcuda picks its attention kernel")
        ->expected(0, 1);
    app->add_option("-b,--batch-size", batch, "Prompt tokens per forward pass at most (with -ub, the smaller)");
    app->add_option("--ubatch-size", ubatch, "-ub: prompt tokens per forward pass (default: 64 CPU, 512 CUDA)");
    app->add_flag("--no-warmup", no_warmup, "Accepted: llcuda does no warm-up run");

    app->add_option("-n,--n-predict,--max-tokens", n_predict, "Tokens to generate at most (-1: until the context is full)")
        ->capture_default_str();
    app->add_option("--temp", sampling.temperature, "Temperature (0: greedy)")->capture_default_str();
    app->add_flag("--greedy", greedy, "Always take the most likely token (same as --temp 0)");
    app->add_option("--top-k", sampling.top_k, "Top-k (<= 0 disables)")->capture_default_str();
    app->add_option("--top-p", sampling.top_p, "Top-p / nucleus (1 disables)")->capture_default_str();
    app->add_option("--min-p", sampling.min_p, "Min-p (0 disables)")->capture_default_str();
    app->add_option("--typical", sampling.typical_p, "Locally typical sampling (1 disables)")->capture_default_str();
    app->add_option("--repeat-penalty", sampling.repetition_penalty, "Repetition penalty (1 disables)")->capture_default_str();
    app->add_option("--presence-penalty", sampling.presence_penalty, "Presence penalty")->capture_default_str();
    app->add_option("--frequency-penalty", sampling.frequency_penalty, "Frequency penalty")->capture_default_str();
    app->add_option("--repeat-last-n", sampling.penalty_last_n, "Tokens the penalties look at (-1: all)")->capture_default_str();
    app->add_option("-s,--seed", seed, "Random seed (-1: a random one, printed); same seed, same text")->capture_default_str();
    app->add_option("--stop", stop, "Stop string, not printed (repeatable)");
    app->add_option("-r,--reverse-prompt", reverse_prompts, "llama.cpp's name for a stop string (repeatable)");
    app->add_flag("--ignore-eos", sampling.ignore_eos, "Keep generating past end-of-generation tokens");
    app->add_option("--grammar", grammar, "Constrain the output to a GBNF grammar (text)");
    app->add_option("--grammar-file", grammar_file, "Constrain the output to the GBNF grammar in a file");
    app->add_option("-j,--json-schema", json_schema, "Constrain the output to a JSON schema (text)");
    app->add_option("--json-schema-file", json_schema_file, "-jf: constrain the output to the JSON schema in a file");

    app->add_option("--system-prompt,--system", system_prompt, "-sys: system message (chat, run --chat, run -cnv)");
    app->add_flag("-i,--interactive,--conversation", conversation, "-cnv: chat with the model (run: as llcuda chat)");
    app->add_flag("--no-conversation", no_conversation, "-no-cnv: accepted; run is not a conversation unless asked");
    app->add_flag("-e,--escape", escape, "Process \\n, \\t, \\xHH ... in -p, -sys and -r (the default)");
    app->add_flag("--no-escape", no_escape, "Take -p, -sys and -r literally");
    app->add_flag("--verbose-prompt", verbose_prompt, "Print the prompt's tokens before generating");
    app->add_flag("-q,--quiet", quiet, "Print no model line, progress or timing to stderr");
}

namespace {

[[noreturn]] void bad_flag(const std::string& message) { throw Error(ErrorKind::InvalidArgument, message); }

// -ngl: a layer count, or "all"/"auto" (every layer).
int64_t parse_gpu_layers(const std::string& text) {
    if (text.empty() || text == "all" || text == "auto") return -1;
    try {
        size_t used = 0;
        const long long n = std::stoll(text, &used);
        if (used == text.size() && n >= -1) return n;
    } catch (const std::exception&) {
    }
    bad_flag(fmt::format("-ngl/--n-gpu-layers {}: give a number of layers, 'all' or 'auto'", text));
}

}  // namespace

std::string GenerationFlags::user_text(const std::string& text) const {
    return escape && !no_escape ? process_escapes(text) : text;
}

ResolvedFlags GenerationFlags::resolve() const {
    ResolvedFlags r;
    auto text = [&](const std::string& s) { return user_text(s); };

    // Loading.
    if (ctx < 0 || ctx > std::numeric_limits<uint32_t>::max()) bad_flag(fmt::format("-c/--ctx-size {} is out of range", ctx));
    if (ctx == 1) bad_flag("-c/--ctx-size 1: the context must hold at least 2 tokens");
    r.load.context_length = uint32_t(ctx);
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    if (threads < -1) bad_flag(fmt::format("-t/--threads {} is out of range (0 or -1: all cores)", threads));
    if (threads > int64_t(cores)) {
        bad_flag(fmt::format("-t/--threads {}: this machine runs {} threads at once; give at most {} (0: all)", threads,
                             cores, cores));
    }
    r.load.n_threads = threads > 0 ? unsigned(threads) : 0;
    r.load.backend = backend;
    r.load.kv_type = kv_type;
    // run and chat generate one sequence: the KV pool holds one context, not a batch of them.
    r.load.max_sequences = 1;
    r.n_gpu_layers = parse_gpu_layers(n_gpu_layers);
    if (r.n_gpu_layers == 0) {
        if (backend == Backend::Cuda) bad_flag("-ngl 0 runs on the CPU but --backend cuda asks for the GPU");
        r.load.backend = Backend::Cpu;
    }
    if (batch < 0 || ubatch < 0) bad_flag("-b/--batch-size and -ub/--ubatch-size must be positive");
    if (batch > 0 || ubatch > 0) {
        const int64_t chunk = std::min(batch > 0 ? batch : ubatch, ubatch > 0 ? ubatch : batch);
        if (chunk > 65536) bad_flag(fmt::format("-b/-ub {}: at most 65536 prompt tokens per forward pass", chunk));
        r.load.prefill_chunk = uint32_t(chunk);
    }
    if (flash_attn && !flash_attn->empty() && *flash_attn != "on" && *flash_attn != "off" && *flash_attn != "auto") {
        bad_flag(fmt::format("-fa/--flash-attn {}: give on, off or auto", *flash_attn));
    }
    if (flash_attn && *flash_attn != "auto") {
        r.notices.push_back("-fa/--flash-attn is accepted but has no effect: llcuda picks its attention kernel itself");
    }

    // Sampling.
    SamplingParams& p = r.params;
    p = sampling;
    if (greedy) p.temperature = 0.0f;
    if (n_predict < -2) bad_flag(fmt::format("-n/--n-predict {} is out of range (-1: until the context is full)", n_predict));
    if (n_predict > std::numeric_limits<uint32_t>::max()) bad_flag(fmt::format("-n/--n-predict {} is too large", n_predict));
    p.max_tokens = n_predict < 0 ? std::numeric_limits<uint32_t>::max() : uint32_t(n_predict);
    if (seed < -1) bad_flag(fmt::format("-s/--seed {}: give a seed >= 0, or -1 for a random one", seed));
    r.seed = seed >= 0 ? uint64_t(seed) : (uint64_t(std::random_device{}()) << 32 | std::random_device{}()) >> 1;
    p.seed = r.seed;
    p.stop = stop;
    for (const auto& s : reverse_prompts) p.stop.push_back(text(s));
    if (!grammar.empty() && !grammar_file.empty()) bad_flag("give --grammar or --grammar-file, not both");
    if (!json_schema.empty() && !json_schema_file.empty()) bad_flag("give -j/--json-schema or -jf/--json-schema-file, not both");
    p.grammar = grammar_file.empty() ? grammar : read_file(grammar_file);
    p.json_schema = json_schema_file.empty() ? json_schema : read_file(json_schema_file);
    if (!p.grammar.empty() && !p.json_schema.empty()) bad_flag("give either a grammar or a JSON schema, not both");
    validate(p);  // the engine's own check: every sampling parameter, before the model loads
    return r;
}

}  // namespace llcuda::cli
