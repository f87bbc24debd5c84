// llcuda perplexity -m MODEL -f TEXT [--ctx N] [--chunks K] [--save-logprobs F | --kl-base F]
//
// As llama.cpp's perplexity tool: the text's tokens are cut into chunks of N (BOS first when the
// model adds one); in each chunk the second half of the positions is scored, each predicted from
// everything before it in the chunk. --save-logprobs writes those positions' full log-probability
// rows (f16) so that a quantized model can be compared with --kl-base: mean KL-divergence of its
// distribution from the saved one and how often both pick the same top token.
#include <cmath>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "commands.h"
#include "read_file.h"
#include "core/atomic_file.h"
#include "core/fp16.h"
#include "default_model.h"
#include "llcuda/engine.h"
#include "llcuda/error.h"

namespace llcuda::cli {

namespace {

constexpr char kMagic[8] = {'L', 'L', 'C', 'L', 'P', 'R', 'B', '1'};  // log-prob rows, version 1

struct PerplexityOptions {
    std::string model, text_file, save_path, kl_base_path;
    uint32_t ctx = 512;
    uint32_t max_chunks = 0;
    unsigned threads = 0;
};

// The saved rows of a base model: header (magic, n_vocab u32, n_rows u32), then n_rows × n_vocab f16.
class LogprobFile {
public:
    explicit LogprobFile(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw Error(ErrorKind::NotFound, "cannot open " + path);
        char magic[8];
        uint32_t header[2];
        in.read(magic, 8);
        in.read(reinterpret_cast<char*>(header), sizeof header);
        if (!in || std::memcmp(magic, kMagic, 8) != 0) {
            throw Error(ErrorKind::FormatError, path + " is not a file written by --save-logprobs");
        }
        n_vocab = header[0];
        n_rows = header[1];
        rows.resize(uint64_t(n_vocab) * n_rows);
        in.read(reinterpret_cast<char*>(rows.data()), std::streamsize(rows.size() * 2));
        if (!in) throw Error(ErrorKind::FormatError, path + " is truncated");
    }
    uint32_t n_vocab = 0, n_rows = 0;
    std::vector<uint16_t> rows;
};

}  // namespace

void register_perplexity(CLI::App& app, CommandSlot& slot) {
    auto o = std::make_shared<PerplexityOptions>();
    slot.app = app.add_subcommand("perplexity", "Perplexity of a model on a text file (and KL-divergence to a base)");
    slot.app->add_option("-m,--model", o->model, "GGUF model (default: the built-in model)");
    slot.app->add_option("-f,--file", o->text_file, "Text file")->required();
    slot.app->add_option("-c,--ctx", o->ctx, "Tokens per chunk")->capture_default_str();
    slot.app->add_option("--chunks", o->max_chunks, "Score at most this many chunks (0: all)");
    slot.app->add_option("-t,--threads", o->threads, "CPU threads");
    slot.app->add_option("--save-logprobs", o->save_path, "Write the scored positions' log-probabilities");
    slot.app->add_option("--kl-base", o->kl_base_path, "Compare with log-probabilities saved from a base model");
    slot.run = [o]() {
        const std::string text = read_file(o->text_file);
        if (o->ctx < 4) throw Error(ErrorKind::InvalidArgument, "--ctx must be at least 4");

        InferenceEngine engine;
        LoadOptions load;
        load.context_length = o->ctx;
        load.n_threads = o->threads;
        engine.load_model(resolve_model(o->model), load);
        const uint32_t n_vocab = engine.model_info().n_vocab;
        const std::vector<int32_t> with_bos = engine.tokenize("", true);  // BOS alone, if the model adds one
        const std::vector<int32_t> tokens = engine.tokenize(text, false);
        const uint32_t n_body = o->ctx - uint32_t(with_bos.size());
        uint32_t n_chunks = uint32_t(tokens.size() / n_body);
        if (o->max_chunks) n_chunks = std::min(n_chunks, o->max_chunks);
        if (n_chunks == 0) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("the text has {} tokens, fewer than one chunk of {}", tokens.size(), n_body));
        }
        std::optional<LogprobFile> base;
        if (!o->kl_base_path.empty()) {
            base.emplace(o->kl_base_path);
            if (base->n_vocab != n_vocab) throw Error(ErrorKind::InvalidArgument, "the base has another vocabulary");
        }
        std::optional<AtomicFileWriter> save;
        const uint32_t first_scored = o->ctx / 2;
        const uint32_t n_scored_per_chunk = o->ctx - 1 - first_scored;
        if (!o->save_path.empty()) {
            save.emplace(o->save_path);
            save->write(kMagic, 8);
            const uint32_t header[2] = {n_vocab, n_chunks * n_scored_per_chunk};
            save->write(header, sizeof header);
        }
        if (base && base->n_rows < n_chunks * n_scored_per_chunk) {
            throw Error(ErrorKind::InvalidArgument, "the base file holds fewer positions than this run scores");
        }

        double nll_sum = 0, kl_sum = 0;
        uint64_t n_scored = 0, n_same_top = 0, row_index = 0;
        std::vector<uint16_t> half_row(n_vocab);
        for (uint32_t c = 0; c < n_chunks; ++c) {
            std::vector<int32_t> chunk = with_bos;
            chunk.insert(chunk.end(), tokens.begin() + uint64_t(c) * n_body, tokens.begin() + uint64_t(c + 1) * n_body);
            engine.score(chunk, [&](uint32_t i, const float* logprobs) {
                if (i < first_scored || i + 1 >= chunk.size()) return;
                nll_sum -= logprobs[chunk[i + 1]];
                ++n_scored;
                if (save) {
                    for (uint32_t v = 0; v < n_vocab; ++v) half_row[v] = fp32_to_fp16(logprobs[v]);
                    save->write(half_row.data(), half_row.size() * 2);
                }
                if (base) {
                    const uint16_t* b = &base->rows[row_index * n_vocab];
                    double kl = 0;
                    uint32_t top_base = 0, top_ours = 0;
                    for (uint32_t v = 0; v < n_vocab; ++v) {
                        const float lb = fp16_to_fp32(b[v]);
                        kl += std::exp(double(lb)) * (double(lb) - logprobs[v]);
                        if (lb > fp16_to_fp32(b[top_base])) top_base = v;
                        if (logprobs[v] > logprobs[top_ours]) top_ours = v;
                    }
                    kl_sum += kl;
                    n_same_top += top_base == top_ours;
                }
                ++row_index;
            });
            fmt::print(stderr, "[chunk {}/{}] perplexity so far {:.4f}\n", c + 1, n_chunks, std::exp(nll_sum / double(n_scored)));
        }
        if (save) save->commit();
        fmt::print("perplexity: {:.4f} over {} scored tokens ({} chunks of {})\n", std::exp(nll_sum / double(n_scored)),
                   n_scored, n_chunks, o->ctx);
        if (base) {
            fmt::print("KL-divergence from base: {:.6f}\nsame top token: {:.2f} %\n", kl_sum / double(n_scored),
                       100.0 * double(n_same_top) / double(n_scored));
        }
        return 0;
    };
}

}  // namespace llcuda::cli
