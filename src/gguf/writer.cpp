// GGUF v3 writer. Produces the exact packing ggml's reader demands: metadata in insertion order,
// tensor infos, zero padding to the alignment, then each tensor's data followed by zero padding.
#include <bit>
#include <unordered_set>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "llcuda/error.h"
#include "llcuda/gguf.h"

namespace llcuda {

namespace {

constexpr uint32_t kMagic = 0x46554747;
constexpr uint32_t kVersion = 3;
constexpr size_t kMaxTensorNameBytes = 63;

uint64_t align_up(uint64_t x, uint64_t alignment) { return (x + alignment - 1) / alignment * alignment; }

template <typename T>
void put(AtomicFileWriter& out, T value) { out.write(&value, sizeof value); }

void put_string(AtomicFileWriter& out, const std::string& s) {
    put<uint64_t>(out, s.size());
    out.write(s.data(), s.size());
}

void put_value(AtomicFileWriter& out, const GgufValue& value) {
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>) {
                put_string(out, v);
            } else if constexpr (std::is_same_v<T, GgufArray>) {
                put<uint32_t>(out, uint32_t(v.elem_type));
                put<uint64_t>(out, v.count);
                if (v.elem_type == GgufType::String) {
                    for (const auto& s : v.strings) put_string(out, s);
                } else {
                    out.write(v.raw.data(), v.raw.size());
                }
            } else if constexpr (std::is_same_v<T, bool>) {
                put<uint8_t>(out, v ? 1 : 0);
            } else {
                put<T>(out, v);
            }
        },
        value.storage());
}

void check_array(std::string_view key, const GgufValue& value) {
    if (value.type() != GgufType::Array) return;
    const auto& array = std::get<GgufArray>(value.storage());
    if (array.elem_type == GgufType::Array) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("key '{}': nested arrays cannot be written", key));
    }
    const bool consistent = array.elem_type == GgufType::String
                                ? array.strings.size() == array.count && array.raw.empty()
                                : array.raw.size() == array.count * gguf_scalar_size(array.elem_type);
    if (!consistent) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("key '{}': array count does not match its data", key));
    }
}

}  // namespace

GgufWriter::GgufWriter() = default;

void GgufWriter::set(std::string_view key, GgufValue value) {
    if (key.empty()) throw Error(ErrorKind::InvalidArgument, "metadata keys must not be empty");
    check_array(key, value);
    if (key == "general.alignment") {
        if (value.type() != GgufType::UInt32) {
            throw Error(ErrorKind::InvalidArgument, "general.alignment must be a u32");
        }
        const uint32_t alignment = std::get<uint32_t>(value.storage());
        if (alignment == 0 || !std::has_single_bit(alignment)) {
            throw Error(ErrorKind::InvalidArgument, fmt::format("alignment {} is not a power of two", alignment));
        }
        alignment_ = alignment;
    }
    for (auto& kv : kvs_) {
        if (kv.key == key) {
            kv.value = std::move(value);
            return;
        }
    }
    kvs_.push_back({std::string(key), std::move(value)});
}

void GgufWriter::remove(std::string_view key) {
    std::erase_if(kvs_, [&](const GgufKv& kv) { return kv.key == key; });
    if (key == "general.alignment") alignment_ = 32;
}

void GgufWriter::set_alignment(uint32_t alignment) { set("general.alignment", GgufValue::u32(alignment)); }

void GgufWriter::add_tensor(std::string name, GgmlType type, std::span<const uint64_t> ne,
                            std::span<const uint8_t> data, uint32_t n_dims) {
    const std::string label = name;
    add_tensor(std::move(name), type, ne, DataSource([data](auto out) { out(data.data(), data.size()); }), n_dims);
    const uint64_t needed = tensors_.back().info.n_bytes;
    if (needed != data.size()) {
        tensors_.pop_back();
        throw Error(ErrorKind::InvalidArgument, fmt::format("tensor '{}': {} data bytes given, its shape and type need {}",
                                                            label, data.size(), needed));
    }
}

void GgufWriter::add_tensor(std::string name, GgmlType type, std::span<const uint64_t> ne, DataSource source,
                            uint32_t n_dims) {
    if (name.size() > kMaxTensorNameBytes) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("tensor name '{}' is longer than {} bytes", name,
                                                            kMaxTensorNameBytes));
    }
    for (const auto& t : tensors_) {
        if (t.info.name == name) throw Error(ErrorKind::InvalidArgument, fmt::format("duplicate tensor '{}'", name));
    }
    if (ne.empty() || ne.size() > 4) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("tensor '{}' has {} dimensions (1 to 4)", name, ne.size()));
    }
    GgufTensorInfo info;
    info.name = std::move(name);
    info.type = type;
    for (size_t d = 0; d < ne.size(); ++d) info.ne[d] = ne[d];
    uint32_t needed = 1;
    for (uint32_t d = 0; d < 4; ++d) {
        if (info.ne[d] > 1) needed = d + 1;
    }
    if (n_dims == 0) n_dims = needed;  // ggml's convention: up to the last dimension > 1
    if (n_dims < needed || n_dims > 4) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("tensor '{}': n_dims {} cannot hold its shape", info.name,
                                                            n_dims));
    }
    info.n_dims = n_dims;
    info.n_bytes = ggml_row_bytes(type, info.ne[0]) * info.ne[1] * info.ne[2] * info.ne[3];
    tensors_.push_back({std::move(info), std::move(source)});
}

void GgufWriter::write(const std::filesystem::path& path) const {
    AtomicFileWriter out(path);
    put<uint32_t>(out, kMagic);
    put<uint32_t>(out, kVersion);
    put<uint64_t>(out, tensors_.size());
    put<uint64_t>(out, kvs_.size());
    for (const auto& kv : kvs_) {
        put_string(out, kv.key);
        put<uint32_t>(out, uint32_t(kv.value.type()));
        put_value(out, kv.value);
    }
    uint64_t offset = 0;
    for (const auto& t : tensors_) {
        put_string(out, t.info.name);
        put<uint32_t>(out, t.info.n_dims);
        for (uint32_t d = 0; d < t.info.n_dims; ++d) put<uint64_t>(out, t.info.ne[d]);
        put<uint32_t>(out, uint32_t(t.info.type));
        put<uint64_t>(out, offset);
        offset = align_up(offset + t.info.n_bytes, alignment_);
    }
    out.write_zeros(align_up(out.position(), alignment_) - out.position());
    for (const auto& t : tensors_) {
        const uint64_t start = out.position();
        t.source([&](const void* data, size_t n) { out.write(data, n); });
        const uint64_t written = out.position() - start;
        if (written != t.info.n_bytes) {
            throw Error(ErrorKind::Internal, fmt::format("tensor '{}': data source wrote {} bytes, expected {}",
                                                         t.info.name, written, t.info.n_bytes));
        }
        out.write_zeros(align_up(written, alignment_) - written);
    }
    out.commit();
}

GgufWriter GgufWriter::copy_of(const GgufFile& file) {
    GgufWriter writer;
    const GgufContents& contents = file.contents();
    for (const auto& kv : contents.kvs) writer.set(kv.key, kv.value);
    writer.alignment_ = contents.alignment;
    for (const auto& info : contents.tensors) {
        writer.add_tensor(info.name, info.type, std::span<const uint64_t>(info.ne.data(), info.n_dims),
                          file.tensor_data(info), info.n_dims);
    }
    return writer;
}

}  // namespace llcuda
