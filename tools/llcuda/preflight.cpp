// Memory and context checks before a model loads (preflight.h).
#include "preflight.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "llcuda/devices.h"
#include "llcuda/error.h"
#include "llcuda/gguf.h"
#include "llcuda/gguf_summary.h"
#include "llcuda/kv_size.h"

namespace llcuda::cli {

namespace {

// As the engine: with no -c, the training context capped at 4096 (llcuda/engine.h, LoadOptions).
constexpr uint32_t kDefaultMaxContext = 4096;
constexpr uint32_t kKvBlock = 16;            // LoadOptions::kv_block_size's default
constexpr uint32_t kMaxTrainMultiple = 4;    // -c above this many training contexts needs --force-ctx
constexpr uint64_t kCudaAllowance = 256ull << 20;  // CUDA runtime, cuBLAS workspace, graphs
constexpr int kMinComputeCapability = 75;    // the oldest GPU the CUDA kernels are built for

uint32_t u32_or(const GgufContents& g, const std::string& key, uint32_t fallback) {
    if (!g.has(key)) return fallback;
    try {
        return uint32_t(g.get_integer(key));
    } catch (const Error&) {
        return fallback;  // an array (per-layer values) or another type: the engine will judge it
    }
}

// MemAvailable from /proc/meminfo (what can be allocated without swapping), 0 when unknown.
uint64_t available_ram() {
    std::ifstream in("/proc/meminfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("MemAvailable:", 0) != 0) continue;
        std::istringstream fields(line.substr(13));
        uint64_t kib = 0;
        fields >> kib;
        return kib * 1024;
    }
    return 0;
}

}  // namespace

std::string format_bytes(uint64_t bytes) {
    const double b = double(bytes);
    if (b >= double(1ull << 30)) return fmt::format("{:.1f} GiB", b / double(1ull << 30));
    if (b >= double(1ull << 20)) return fmt::format("{:.1f} MiB", b / double(1ull << 20));
    return fmt::format("{:.1f} KiB", b / 1024.0);
}

ModelFacts read_model_facts(const std::filesystem::path& model) {
    const GgufFile file = GgufFile::open(model);
    const GgufContents& g = file.contents();
    ModelFacts f;
    f.architecture = g.get_string_or("general.architecture", "");
    f.name = g.get_string_or("general.name", model.filename().string());
    if (g.has("general.file_type")) f.file_type = file_type_name(uint32_t(g.get_integer("general.file_type")));
    const std::string& a = f.architecture;
    f.n_layer = u32_or(g, a + ".block_count", 0);
    f.n_embd = u32_or(g, a + ".embedding_length", 0);
    f.n_ff = u32_or(g, a + ".feed_forward_length", 0);
    f.n_head = u32_or(g, a + ".attention.head_count", 0);
    f.n_head_kv = u32_or(g, a + ".attention.head_count_kv", f.n_head);
    f.head_dim_k = u32_or(g, a + ".attention.key_length", f.n_head ? f.n_embd / f.n_head : 0);
    f.head_dim_v = u32_or(g, a + ".attention.value_length", f.head_dim_k);
    f.n_ctx_train = u32_or(g, a + ".context_length", 4096);
    if (const GgufTensorInfo* t = g.find_tensor("token_embd.weight")) f.n_vocab = uint32_t(t->ne[1]);
    for (const auto& t : g.tensors) {
        f.n_parameters += t.n_elements();
        f.weight_bytes += t.n_bytes;
    }
    return f;
}

MemoryEstimate estimate_memory(const ModelFacts& f, const LoadOptions& load) {
    MemoryEstimate e;
    e.backend = Backend::Cpu;
    e.device = "cpu";
    if (load.backend != Backend::Cpu) {
        const GpuQuery q = query_gpus();
        if (!q.devices.empty()) {
            const GpuDevice& d = q.devices.front();
            if (d.compute_major * 10 + d.compute_minor >= kMinComputeCapability) {
                e.backend = Backend::Cuda;
                e.device = d.name;
                e.free_bytes = d.free_memory;
            }
        }
    }
    if (e.backend == Backend::Cpu) e.free_bytes = available_ram();
    const bool cpu = e.backend == Backend::Cpu;
    e.n_ctx = load.context_length ? load.context_length : std::min(f.n_ctx_train, kDefaultMaxContext);

    // The KV cache: whole blocks of positions for every sequence; float32 on the CPU.
    const GgmlType kv = cpu ? GgmlType::F32 : load.kv_type == KvCacheType::Q8_0 ? GgmlType::Q8_0 : GgmlType::F16;
    try {
        e.kv_bytes_per_position = kv_cache_bytes_per_token(f.n_layer, f.n_head_kv, f.head_dim_k, f.head_dim_v, kv, kv);
    } catch (const Error&) {
        e.kv_bytes_per_position = kv_cache_bytes_per_token(f.n_layer, f.n_head_kv, f.head_dim_k, f.head_dim_v,
                                                           GgmlType::F16, GgmlType::F16);  // q8_0 refused later
    }
    const uint64_t block = load.kv_block_size ? load.kv_block_size : kKvBlock;
    const uint64_t sequences = load.max_sequences ? load.max_sequences : (cpu ? 1 : 8);
    const uint64_t positions = (uint64_t(e.n_ctx) + block - 1) / block * block * sequences;
    const uint64_t kv_bytes = e.kv_bytes_per_position * positions;

    // Activations of one step (float32): residual, norms, projections, feed-forward, logits rows.
    const uint64_t step = (load.prefill_chunk ? load.prefill_chunk : cpu ? 64 : 512) + sequences;
    const uint64_t q_dim = uint64_t(f.n_head) * f.head_dim_k;
    const uint64_t kv_dim = uint64_t(f.n_head_kv) * (f.head_dim_k + f.head_dim_v);
    const uint64_t logit_rows = std::max<uint64_t>(64, 2 * sequences);
    const uint64_t buffers = 4 * (step * (3ull * f.n_embd + 2 * (q_dim + kv_dim) + 2ull * f.n_ff) +
                                  logit_rows * f.n_vocab);
    // The CPU reads the weights from the mapped file; the GPU holds a copy.
    e.needed_bytes = kv_bytes + buffers + (cpu ? 0 : f.weight_bytes + kCudaAllowance);
    return e;
}

std::vector<std::string> check_before_load(const ModelFacts& f, const MemoryEstimate& e, bool force_ctx,
                                           int64_t n_gpu_layers) {
    std::vector<std::string> warnings;
    const char* where = e.backend == Backend::Cpu ? "of RAM" : "of GPU memory";
    if (e.free_bytes > 0 && e.needed_bytes > e.free_bytes) {
        throw Error(ErrorKind::OutOfMemory,
                    fmt::format("a context of {} tokens needs {} {} (KV cache {} per position, buffers{}) but only {} is "
                                "free; lower -c",
                                e.n_ctx, format_bytes(e.needed_bytes), where, format_bytes(e.kv_bytes_per_position),
                                e.backend == Backend::Cpu ? "" : ", weights", format_bytes(e.free_bytes)));
    }
    if (f.n_ctx_train > 0 && e.n_ctx > f.n_ctx_train) {
        const double times = double(e.n_ctx) / f.n_ctx_train;
        if (e.n_ctx > uint64_t(kMaxTrainMultiple) * f.n_ctx_train && !force_ctx) {
            throw Error(ErrorKind::InvalidArgument,
                        fmt::format("-c {} is {:.1f} times the {} tokens the model was trained for; above {}x it is "
                                    "refused (--force-ctx runs it anyway)",
                                    e.n_ctx, times, f.n_ctx_train, kMaxTrainMultiple));
        }
        warnings.push_back(fmt::format("-c {} is beyond the {} tokens the model was trained for: text past {} tokens "
                                       "may lose coherence",
                                       e.n_ctx, f.n_ctx_train, f.n_ctx_train));
    }
    if (n_gpu_layers > 0 && f.n_layer > 0 && n_gpu_layers < int64_t(f.n_layer)) {
        warnings.push_back(fmt::format("-ngl {} is taken as all {} layers: llcuda runs a model wholly on one device",
                                       n_gpu_layers, f.n_layer));
    }
    return warnings;
}

}  // namespace llcuda::cli
