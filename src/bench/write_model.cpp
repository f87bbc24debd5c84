// write_bench_model: metadata, vocabulary and random tensor data streamed through GgufWriter.
// Each tensor is generated in 64 MiB chunks by all threads while the previous chunk is written,
// so the file never sits in memory and generation overlaps the disk.
#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "bench/random_fill.h"
#include "bench/vocabulary.h"
#include "core/thread_pool.h"
#include "llcuda/bench_model.h"
#include "llcuda/error.h"
#include "llcuda/gguf.h"
#include "quant/mixes.h"

namespace llcuda {
namespace {

constexpr uint64_t kSubChunkBytes = 1ull << 20;   // one seeded piece of work
constexpr uint64_t kChunkBytes = 64ull << 20;     // handed to the file at once (two in flight)

using Out = std::function<void(const void*, size_t)>;

// Streams n_blocks random blocks. Piece i of the tensor is filled from derive_seed(seed, i) and
// pieces have a fixed size, so the bytes do not depend on the thread count.
void stream_tensor(const bench::BlockFiller& filler, uint64_t n_blocks, uint64_t seed, ThreadPool& pool,
                   const Out& out) {
    const uint64_t block_bytes = filler.block_bytes();
    const uint64_t piece_blocks = std::max<uint64_t>(1, kSubChunkBytes / block_bytes);
    const uint64_t chunk_blocks = piece_blocks * std::max<uint64_t>(1, kChunkBytes / kSubChunkBytes);
    std::vector<uint8_t> buffers[2];  // one being filled while the other is written
    std::future<void> writing;
    uint64_t piece_base = 0;
    for (uint64_t done = 0, turn = 0; done < n_blocks; turn ^= 1) {
        const uint64_t n = std::min(chunk_blocks, n_blocks - done);
        const uint64_t n_pieces = (n + piece_blocks - 1) / piece_blocks;
        std::vector<uint8_t>& buf = buffers[turn];
        buf.resize(n * block_bytes);
        pool.parallel_for(n_pieces, [&](size_t begin, size_t end) {
            for (size_t p = begin; p < end; ++p) {
                const uint64_t first = p * piece_blocks, count = std::min(piece_blocks, n - first);
                filler.fill(buf.data() + first * block_bytes, count, bench::derive_seed(seed, piece_base + p));
            }
        });
        if (writing.valid()) writing.get();
        writing = std::async(std::launch::async, [&out, &buf] { out(buf.data(), buf.size()); });
        piece_base += n_pieces;
        done += n;
    }
    if (writing.valid()) writing.get();
}

void set_model_metadata(GgufWriter& w, const BenchShape& s, std::string_view type, uint64_t seed) {
    w.set("general.architecture", GgufValue::string("llama"));
    w.set("general.type", GgufValue::string("model"));
    w.set("general.name", GgufValue::string(fmt::format("{} shape, random weights ({})", s.description, type)));
    w.set("llama.block_count", GgufValue::u32(s.n_layer));
    w.set("llama.context_length", GgufValue::u32(s.n_ctx_train));
    w.set("llama.embedding_length", GgufValue::u32(s.n_embd));
    w.set("llama.feed_forward_length", GgufValue::u32(s.n_ff));
    w.set("llama.attention.head_count", GgufValue::u32(s.n_head));
    w.set("llama.attention.head_count_kv", GgufValue::u32(s.n_head_kv));
    w.set("llama.attention.key_length", GgufValue::u32(s.head_dim));
    w.set("llama.attention.value_length", GgufValue::u32(s.head_dim));
    w.set("llama.rope.dimension_count", GgufValue::u32(s.head_dim));
    w.set("llama.rope.freq_base", GgufValue::f32(s.rope_base));
    w.set("llama.attention.layer_norm_rms_epsilon", GgufValue::f32(1e-5f));
    w.set("llama.vocab_size", GgufValue::u32(s.n_vocab));
    w.set("llcuda.bench.shape", GgufValue::string(s.name));
    w.set("llcuda.bench.seed", GgufValue::u64(seed));
}

}  // namespace

BenchModelReport write_bench_model(const std::filesystem::path& path, const BenchModelOptions& options) {
    const auto start = std::chrono::steady_clock::now();
    const BenchShape& shape = bench_shape(options.shape);
    const std::vector<BenchTensor> tensors = plan_bench_model(shape, options.type);

    GgufWriter writer;
    set_model_metadata(writer, shape, options.type, options.seed);
    add_vocabulary_to_gguf(bench::bench_vocabulary(shape), writer);
    bool quantized = false;
    for (const auto& t : tensors) quantized |= ggml_type_info(t.type).block_size > 1;
    if (quantized) writer.set("general.quantization_version", GgufValue::u32(2));
    if (const auto preset = quant::file_type_preset(options.type))
        writer.set("general.file_type", GgufValue::u32(uint32_t(preset->ftype)));

    // One filler per (type, weights or norm gains); norms are the 1-D tensors.
    std::map<std::pair<GgmlType, bool>, std::unique_ptr<bench::BlockFiller>> fillers;
    ThreadPool pool(options.n_threads);
    BenchModelReport report;
    for (size_t i = 0; i < tensors.size(); ++i) {
        const BenchTensor& t = tensors[i];
        const bool norm = t.n_dims == 1;
        auto& filler = fillers[{t.type, norm}];
        if (!filler) {
            const bench::ValueDistribution d = norm ? bench::ValueDistribution{1.0f, 0.05f} : bench::ValueDistribution{};
            filler = std::make_unique<bench::BlockFiller>(t.type, d);
        }
        const uint64_t n_blocks = t.ne[0] * t.ne[1] / ggml_type_info(t.type).block_size;
        const uint64_t seed = bench::derive_seed(options.seed, i);
        const bench::BlockFiller* f = filler.get();
        writer.add_tensor(t.name, t.type, std::span<const uint64_t>(t.ne.data(), t.n_dims),
                          GgufWriter::DataSource([f, n_blocks, seed, &pool](Out out) {
                              stream_tensor(*f, n_blocks, seed, pool, out);
                          }),
                          t.n_dims);
        report.tensor_bytes += t.n_bytes;
        report.n_parameters += t.ne[0] * t.ne[1];
    }
    writer.write(path);
    report.n_tensors = tensors.size();
    report.file_bytes = std::filesystem::file_size(path);
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
}

}  // namespace llcuda
