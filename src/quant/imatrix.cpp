// Loader for importance-matrix files (see imatrix.h). Values are what the quantizers consume:
// in_sum2 / count per column (1 where a column was never seen), or the legacy averaged values.
#include "quant/imatrix.h"

#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "llcuda/error.h"
#include "llcuda/gguf.h"

namespace llcuda::quant {
namespace {

std::vector<float> f32_tensor(const GgufFile& file, const GgufTensorInfo& info) {
    if (info.type != GgmlType::F32)
        throw Error(ErrorKind::FormatError, fmt::format("imatrix: tensor {} is not f32", info.name));
    const auto bytes = file.tensor_data(info);
    std::vector<float> v(bytes.size() / 4);
    std::memcpy(v.data(), bytes.data(), v.size() * 4);
    return v;
}

ImportanceMatrix load_gguf(const std::filesystem::path& path) {
    const GgufFile file = GgufFile::open(path);
    const GgufContents& c = file.contents();
    ImportanceMatrix m;
    m.chunk_count = c.get_u32_or("imatrix.chunk_count", 0);
    if (const GgufValue* v = c.find("imatrix.datasets"); v && v->type() == GgufType::Array)
        m.datasets = std::get<GgufArray>(v->storage()).strings;
    constexpr std::string_view kSum = ".in_sum2";
    for (const auto& t : c.tensors) {
        if (!t.name.ends_with(kSum)) continue;
        const std::string base = t.name.substr(0, t.name.size() - kSum.size());
        const GgufTensorInfo* counts_info = c.find_tensor(base + ".counts");
        if (!counts_info)
            throw Error(ErrorKind::FormatError, fmt::format("imatrix: {} has no {}.counts", t.name, base));
        std::vector<float> sums = f32_tensor(file, t);
        const std::vector<float> counts = f32_tensor(file, *counts_info);
        if (counts.empty() || sums.size() % counts.size() != 0)
            throw Error(ErrorKind::FormatError, fmt::format("imatrix: {} sizes do not match", base));
        const size_t per_expert = sums.size() / counts.size();
        for (size_t i = 0; i < sums.size(); ++i) {
            const float n = counts[i / per_expert];
            sums[i] = n > 0.0f ? sums[i] / n : 1.0f;
        }
        m.values[base] = std::move(sums);
    }
    return m;
}

ImportanceMatrix load_dat(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::Io, "imatrix: cannot open " + path.string());
    auto read = [&](void* p, size_t n) {
        if (!in.read(static_cast<char*>(p), std::streamsize(n)))
            throw Error(ErrorKind::FormatError, "imatrix: truncated file " + path.string());
    };
    auto i32 = [&] { int32_t v; read(&v, 4); return v; };
    ImportanceMatrix m;
    const int32_t n_entries = i32();
    if (n_entries < 0 || n_entries > 1 << 20) throw Error(ErrorKind::FormatError, "imatrix: bad entry count");
    for (int32_t e = 0; e < n_entries; ++e) {
        const int32_t len = i32();
        if (len <= 0 || len > 4096) throw Error(ErrorKind::FormatError, "imatrix: bad name length");
        std::string name(size_t(len), '\0');
        read(name.data(), name.size());
        const int32_t ncall = i32(), nval = i32();
        if (nval <= 0 || nval > 1 << 28) throw Error(ErrorKind::FormatError, "imatrix: bad value count for " + name);
        std::vector<float> v(static_cast<size_t>(nval));
        read(v.data(), v.size() * 4);
        if (ncall > 0)  // stored values are sums over ncall chunks of averages
            for (auto& x : v) x /= float(ncall);
        m.values[name] = std::move(v);
    }
    int32_t chunks;
    if (in.read(reinterpret_cast<char*>(&chunks), 4)) {
        m.chunk_count = uint32_t(std::max(chunks, 0));
        int32_t len;
        if (in.read(reinterpret_cast<char*>(&len), 4) && len > 0 && len < 1 << 16) {
            std::string name(size_t(len), '\0');
            if (in.read(name.data(), len)) m.datasets.push_back(name);
        }
    }
    return m;
}

}  // namespace

ImportanceMatrix load_imatrix(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::NotFound, "imatrix: cannot open " + path.string());
    char magic[4] = {};
    in.read(magic, 4);
    in.close();
    return std::memcmp(magic, "GGUF", 4) == 0 ? load_gguf(path) : load_dat(path);
}

}  // namespace llcuda::quant
