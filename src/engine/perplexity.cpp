// Perplexity and KL-divergence (llcuda/perplexity.h), on the public engine API only: tokenize and
// score. The base model's rows are streamed from disk one position at a time, so comparing against
// a large vocabulary never holds more than one row of it in memory.
#include "llcuda/perplexity.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/fp16.h"
#include "llcuda/error.h"

namespace llcuda {

namespace {

constexpr char kMagic[8] = {'L', 'L', 'C', 'L', 'P', 'R', 'B', '1'};  // log-prob rows, version 1
constexpr uint64_t kHeaderBytes = 8 + 2 * sizeof(uint32_t);

// The rows of a --save-logprobs file, read in order.
class BaseRows {
public:
    explicit BaseRows(const std::filesystem::path& path) : path_(path), in_(path, std::ios::binary) {
        if (!in_) throw Error(ErrorKind::NotFound, "cannot open " + path.string());
        char magic[8];
        uint32_t header[2];
        in_.read(magic, 8);
        in_.read(reinterpret_cast<char*>(header), sizeof header);
        if (!in_ || std::memcmp(magic, kMagic, 8) != 0) {
            throw Error(ErrorKind::FormatError, path.string() + " is not a log-probability file (--save-logprobs)");
        }
        n_vocab = header[0];
        n_rows = header[1];
        const uint64_t expected = kHeaderBytes + uint64_t(n_rows) * n_vocab * 2;
        const uint64_t actual = std::filesystem::file_size(path);
        if (actual != expected) {
            throw Error(ErrorKind::FormatError, fmt::format("{} holds {} bytes, but its header ({} rows of {} tokens) "
                                                            "needs {}", path.string(), actual, n_rows, n_vocab, expected));
        }
        row_.resize(n_vocab);
    }

    // The next row (n_vocab f16 log-probabilities).
    const uint16_t* next() {
        in_.read(reinterpret_cast<char*>(row_.data()), std::streamsize(row_.size() * 2));
        if (!in_) throw Error(ErrorKind::Io, "reading " + path_.string() + " failed");
        return row_.data();
    }

    uint32_t n_vocab = 0, n_rows = 0;

private:
    std::filesystem::path path_;
    std::ifstream in_;
    std::vector<uint16_t> row_;  // (n_vocab)
};

// Index of the largest value; the first one on ties.
uint32_t argmax(const float* row, uint32_t n) {
    uint32_t best = 0;
    for (uint32_t v = 1; v < n; ++v) {
        if (row[v] > row[best]) best = v;
    }
    return best;
}

}  // namespace

PerplexityResult compute_perplexity(InferenceEngine& engine, std::string_view text, const PerplexityOptions& options) {
    const uint32_t ctx = options.chunk_tokens;
    if (ctx < 4) throw Error(ErrorKind::InvalidArgument, fmt::format("chunks of {} tokens: at least 4 are needed", ctx));
    const ModelInfo info = engine.model_info();
    if (ctx > info.context_length) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("chunks of {} tokens do not fit the engine's context of {}; "
                                                            "load the model with a larger context", ctx, info.context_length));
    }
    const uint32_t n_vocab = info.n_vocab;
    const std::vector<int32_t> bos = engine.tokenize("", true);  // BOS alone, if the model adds one
    const std::vector<int32_t> tokens = engine.tokenize(text, false);
    const uint32_t n_body = ctx - uint32_t(bos.size());
    uint32_t n_chunks = uint32_t(tokens.size() / n_body);
    if (options.max_chunks) n_chunks = std::min(n_chunks, options.max_chunks);
    if (n_chunks == 0) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("the text has {} tokens, fewer than one chunk of {}", tokens.size(), n_body));
    }
    const uint32_t first_scored = ctx / 2;  // positions [first_scored, ctx - 1) predict the next token
    const uint32_t n_rows = n_chunks * (ctx - 1 - first_scored);

    std::optional<BaseRows> base;
    if (!options.kl_base.empty()) {
        base.emplace(options.kl_base);
        if (base->n_vocab != n_vocab) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("the base in {} has a vocabulary of {} tokens, this model {}",
                                    options.kl_base.string(), base->n_vocab, n_vocab));
        }
        if (base->n_rows < n_rows) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("the base in {} holds {} positions, fewer than the {} this run scores (same text, "
                                    "--ctx and --chunks as when it was saved?)", options.kl_base.string(), base->n_rows, n_rows));
        }
    }
    std::optional<AtomicFileWriter> save;
    if (!options.save_logprobs.empty()) {
        save.emplace(options.save_logprobs);
        save->write(kMagic, 8);
        const uint32_t header[2] = {n_vocab, n_rows};
        save->write(header, sizeof header);
    }

    double nll_sum = 0, kl_sum = 0;
    uint64_t n_scored = 0, n_same_top = 0;
    std::vector<uint16_t> half(n_vocab);   // (n_vocab) this row in f16, as saved
    std::vector<float> rounded(n_vocab);   // (n_vocab) the same, back in f32
    std::vector<int32_t> chunk;
    for (uint32_t c = 0; c < n_chunks; ++c) {
        chunk = bos;
        chunk.insert(chunk.end(), tokens.begin() + uint64_t(c) * n_body, tokens.begin() + uint64_t(c + 1) * n_body);
        engine.score(chunk, [&](uint32_t i, const float* logprobs) {
            if (i < first_scored || i + 1 >= chunk.size()) return;
            nll_sum -= logprobs[chunk[i + 1]];
            ++n_scored;
            if (!save && !base) return;
            for (uint32_t v = 0; v < n_vocab; ++v) {
                half[v] = fp32_to_fp16(logprobs[v]);
                rounded[v] = fp16_to_fp32(half[v]);
            }
            if (save) save->write(half.data(), half.size() * 2);
            if (base) {
                // Both rows at the saved f16 precision, so a model compared with itself gives exactly 0.
                const uint16_t* b = base->next();
                double kl = 0;
                float top_base_value = -INFINITY;
                uint32_t top_base = 0;
                for (uint32_t v = 0; v < n_vocab; ++v) {
                    const float lb = fp16_to_fp32(b[v]);
                    const double pb = std::exp(double(lb));
                    if (pb > 0) kl += pb * (double(lb) - double(rounded[v]));
                    if (lb > top_base_value) {
                        top_base_value = lb;
                        top_base = v;
                    }
                }
                kl_sum += kl;
                n_same_top += top_base == argmax(rounded.data(), n_vocab);
            }
        });
        if (options.on_chunk) options.on_chunk(c, n_chunks, std::exp(nll_sum / double(n_scored)));
    }
    if (save) save->commit();

    PerplexityResult r;
    r.perplexity = std::exp(nll_sum / double(n_scored));
    r.n_scored = n_scored;
    r.n_chunks = n_chunks;
    r.chunk_tokens = ctx;
    if (base) r.kl = KlDivergence{kl_sum / double(n_scored), double(n_same_top) / double(n_scored)};
    return r;
}

}  // namespace llcuda
