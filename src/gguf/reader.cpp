// GGUF parser. Every count, length and offset is checked against the bytes that remain before it
// is used, so a malformed or truncated file fails with an error naming the field and its offset —
// never a crash, a hang or an allocation larger than the file.
#include <bit>
#include <cstring>
#include <unordered_set>

#include <fmt/format.h>

#include "core/mapped_file.h"
#include "llcuda/error.h"
#include "llcuda/gguf.h"

namespace llcuda {

namespace {

constexpr uint32_t kMagic = 0x46554747;          // "GGUF" read as a little-endian u32
constexpr uint64_t kMaxTensorNameBytes = 63;     // ggml's GGML_MAX_NAME (64) minus the NUL
constexpr uint32_t kMaxDims = 4;
// Smallest possible encodings, used to reject counts the remaining bytes cannot hold.
constexpr uint64_t kMinKvBytes = 8 + 1 + 4 + 1;             // key length, 1-byte key, type, 1-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8;  // name, n_dims, one dim, type, offset

class Cursor {
public:
    Cursor(std::span<const uint8_t> bytes, std::string_view source) : bytes_(bytes), source_(source) {}

    uint64_t position() const { return pos_; }
    uint64_t remaining() const { return bytes_.size() - pos_; }

    [[noreturn]] void fail(ErrorKind kind, uint64_t at, const std::string& what) const {
        throw Error(kind, fmt::format("GGUF '{}' at offset {}: {}", source_, at, what));
    }
    [[noreturn]] void fail(uint64_t at, const std::string& what) const { fail(ErrorKind::FormatError, at, what); }

    void need(uint64_t n, std::string_view what) const {
        if (n > remaining()) {
            fail(pos_, fmt::format("file is truncated: {} needs {} bytes but only {} remain", what, n, remaining()));
        }
    }

    template <typename T>
    T read(std::string_view what) {
        need(sizeof(T), what);
        T value;
        std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return value;
    }

    std::string read_string(std::string_view what) {
        const uint64_t at = pos_;
        const uint64_t length = read<uint64_t>(what);
        if (length > remaining()) {
            fail(at, fmt::format("{} has length {} but only {} bytes remain in the file", what, length, remaining()));
        }
        std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), length);
        pos_ += length;
        return s;
    }

    void copy_bytes(std::vector<uint8_t>& out, uint64_t n, std::string_view what) {
        need(n, what);
        out.assign(bytes_.data() + pos_, bytes_.data() + pos_ + n);
        pos_ += n;
    }

private:
    std::span<const uint8_t> bytes_;
    std::string_view source_;
    uint64_t pos_ = 0;
};

bool valid_value_type(uint32_t t) { return t <= uint32_t(GgufType::Float64); }

GgufValue read_scalar(Cursor& c, GgufType type, std::string_view what) {
    switch (type) {
        case GgufType::UInt8: return GgufValue::u8(c.read<uint8_t>(what));
        case GgufType::Int8: return GgufValue::i8(c.read<int8_t>(what));
        case GgufType::UInt16: return GgufValue::u16(c.read<uint16_t>(what));
        case GgufType::Int16: return GgufValue::i16(c.read<int16_t>(what));
        case GgufType::UInt32: return GgufValue::u32(c.read<uint32_t>(what));
        case GgufType::Int32: return GgufValue::i32(c.read<int32_t>(what));
        case GgufType::Float32: return GgufValue::f32(c.read<float>(what));
        case GgufType::Bool: return GgufValue::boolean(c.read<uint8_t>(what) != 0);
        case GgufType::String: return GgufValue::string(c.read_string(what));
        case GgufType::UInt64: return GgufValue::u64(c.read<uint64_t>(what));
        case GgufType::Int64: return GgufValue::i64(c.read<int64_t>(what));
        case GgufType::Float64: return GgufValue::f64(c.read<double>(what));
        case GgufType::Array: break;
    }
    c.fail(ErrorKind::Internal, c.position(), "read_scalar called for an array");
}

GgufValue read_array(Cursor& c, const std::string& key) {
    const uint64_t at = c.position();
    const uint32_t elem = c.read<uint32_t>("array element type");
    if (!valid_value_type(elem)) c.fail(at, fmt::format("key '{}': invalid array element type {}", key, elem));
    if (GgufType(elem) == GgufType::Array) c.fail(at, fmt::format("key '{}': nested arrays are not allowed", key));
    GgufArray array;
    array.elem_type = GgufType(elem);
    const uint64_t count_at = c.position();
    array.count = c.read<uint64_t>("array length");
    if (array.elem_type == GgufType::String) {
        // Each string needs at least its 8-byte length prefix.
        if (array.count > c.remaining() / 8) {
            c.fail(count_at, fmt::format("key '{}': array of {} strings cannot fit in the {} bytes left", key,
                                         array.count, c.remaining()));
        }
        array.strings.reserve(array.count);
        for (uint64_t i = 0; i < array.count; ++i) array.strings.push_back(c.read_string("array string"));
    } else {
        const uint64_t size = gguf_scalar_size(array.elem_type);
        if (array.count > c.remaining() / size) {
            c.fail(count_at, fmt::format("key '{}': array of {} {} values cannot fit in the {} bytes left", key,
                                         array.count, gguf_type_name(array.elem_type), c.remaining()));
        }
        c.copy_bytes(array.raw, array.count * size, "array data");
        if (array.elem_type == GgufType::Bool) {
            for (auto& b : array.raw) b = b != 0;  // stored canonically as 0/1, as written back
        }
    }
    return GgufValue::array(std::move(array));
}

void read_header(Cursor& c, GgufContents& out, uint64_t& n_tensors, uint64_t& n_kv) {
    c.need(4, "magic");
    const uint32_t magic = c.read<uint32_t>("magic");
    if (magic != kMagic) c.fail(0, fmt::format("not a GGUF file (magic 0x{:08x}, expected \"GGUF\")", magic));
    out.version = c.read<uint32_t>("version");
    if (out.version != 2 && out.version != 3) {
        if (out.version != 0 && (out.version & 0xFFFFu) == 0) {
            c.fail(ErrorKind::Unsupported, 4, "big-endian GGUF files are not supported");
        }
        c.fail(ErrorKind::Unsupported, 4, fmt::format("GGUF version {} is not supported (2 and 3 are)", out.version));
    }
    const int64_t tensors = c.read<int64_t>("tensor count");
    const int64_t kvs = c.read<int64_t>("metadata count");
    if (tensors < 0) c.fail(8, fmt::format("negative tensor count {}", tensors));
    if (kvs < 0) c.fail(16, fmt::format("negative metadata count {}", kvs));
    n_tensors = uint64_t(tensors);
    n_kv = uint64_t(kvs);
    if (n_kv > c.remaining() / kMinKvBytes) {
        c.fail(16, fmt::format("metadata count {} cannot fit in the {} bytes left", n_kv, c.remaining()));
    }
    if (n_tensors > c.remaining() / kMinTensorInfoBytes) {
        c.fail(8, fmt::format("tensor count {} cannot fit in the {} bytes left", n_tensors, c.remaining()));
    }
}

void read_metadata(Cursor& c, GgufContents& out, uint64_t n_kv) {
    std::unordered_set<std::string> seen;
    out.kvs.reserve(n_kv);
    for (uint64_t i = 0; i < n_kv; ++i) {
        const uint64_t at = c.position();
        std::string key = c.read_string("metadata key");
        if (key.empty()) c.fail(at, fmt::format("metadata key #{} is empty", i));
        if (!seen.insert(key).second) c.fail(at, fmt::format("duplicate metadata key '{}'", key));
        const uint64_t type_at = c.position();
        const uint32_t type = c.read<uint32_t>("value type");
        if (!valid_value_type(type)) c.fail(type_at, fmt::format("key '{}' has invalid value type {}", key, type));
        GgufValue value = GgufType(type) == GgufType::Array ? read_array(c, key)
                                                            : read_scalar(c, GgufType(type), "metadata value");
        if (key == "general.alignment") {
            if (value.type() != GgufType::UInt32) {
                c.fail(type_at, fmt::format("general.alignment has type {}, expected u32", gguf_type_name(value.type())));
            }
            const uint32_t alignment = std::get<uint32_t>(value.storage());
            if (alignment == 0 || !std::has_single_bit(alignment)) {
                c.fail(type_at, fmt::format("general.alignment {} is not a power of two", alignment));
            }
            out.alignment = alignment;
        }
        out.kvs.push_back({std::move(key), std::move(value)});
    }
}

GgufTensorInfo read_tensor_info(Cursor& c, uint64_t index) {
    GgufTensorInfo info;
    const uint64_t at = c.position();
    info.name = c.read_string("tensor name");
    if (info.name.size() > kMaxTensorNameBytes) {
        c.fail(at, fmt::format("tensor #{} name is {} bytes long (at most {})", index, info.name.size(),
                               kMaxTensorNameBytes));
    }
    const uint64_t dims_at = c.position();
    info.n_dims = c.read<uint32_t>("tensor dimension count");
    if (info.n_dims == 0 || info.n_dims > kMaxDims) {
        c.fail(dims_at, fmt::format("tensor '{}' has {} dimensions (1 to 4 allowed)", info.name, info.n_dims));
    }
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < info.n_dims; ++d) {
        const int64_t ne = c.read<int64_t>("tensor dimension");
        if (ne < 0) c.fail(dims_at, fmt::format("tensor '{}' has negative dimension {}", info.name, ne));
        info.ne[d] = uint64_t(ne);
        if (ne != 0 && n_elements > uint64_t(INT64_MAX) / uint64_t(ne)) {
            c.fail(dims_at, fmt::format("tensor '{}' has too many elements", info.name));
        }
        n_elements *= uint64_t(ne);
    }
    const uint64_t type_at = c.position();
    const uint32_t type = c.read<uint32_t>("tensor type");
    const GgmlTypeInfo* type_info = ggml_type_info(type);
    if (!type_info) {
        c.fail(ErrorKind::Unsupported, type_at, fmt::format("tensor '{}' has unknown ggml type {}", info.name, type));
    }
    info.type = type_info->type;
    if (info.ne[0] % type_info->block_size != 0) {
        c.fail(type_at, fmt::format("tensor '{}': row length {} is not a multiple of the {} block size {}", info.name,
                                    info.ne[0], type_info->name, type_info->block_size));
    }
    // n_elements < 2^63 and block_size >= 1, so blocks * type_size (<= 292) cannot overflow u64.
    info.n_bytes = n_elements / type_info->block_size * type_info->type_size;
    info.offset = c.read<uint64_t>("tensor data offset");
    return info;
}

uint64_t align_up(uint64_t x, uint64_t alignment) { return (x + alignment - 1) / alignment * alignment; }

}  // namespace

GgufContents parse_gguf(std::span<const uint8_t> bytes, std::string_view source_name) {
    Cursor c(bytes, source_name);
    GgufContents out;
    uint64_t n_tensors = 0, n_kv = 0;
    read_header(c, out, n_tensors, n_kv);
    read_metadata(c, out, n_kv);

    std::unordered_set<std::string> names;
    out.tensors.reserve(n_tensors);
    for (uint64_t i = 0; i < n_tensors; ++i) {
        const uint64_t at = c.position();
        GgufTensorInfo info = read_tensor_info(c, i);
        if (!names.insert(info.name).second) c.fail(at, fmt::format("duplicate tensor name '{}'", info.name));
        out.tensors.push_back(std::move(info));
    }

    out.data_offset = align_up(c.position(), out.alignment);
    // Like ggml, demand exactly sequential offsets: each tensor follows the previous one padded to
    // the alignment. Then check that every tensor's bytes are really in the file.
    uint64_t expected = 0;
    for (const auto& info : out.tensors) {
        if (info.offset != expected) {
            c.fail(c.position(), fmt::format("tensor '{}' has data offset {}, expected {}", info.name, info.offset,
                                             expected));
        }
        const uint64_t available = bytes.size() > out.data_offset ? bytes.size() - out.data_offset : 0;
        if (info.n_bytes > available || info.offset > available - info.n_bytes) {
            c.fail(out.data_offset + info.offset,
                   fmt::format("file is truncated: tensor '{}' needs bytes {}..{} of the data section but it has {}",
                               info.name, info.offset, info.offset + info.n_bytes, available));
        }
        expected = align_up(info.offset + info.n_bytes, out.alignment);
    }
    out.rebuild_index();
    return out;
}

GgufFile GgufFile::open(const std::filesystem::path& path) {
    GgufFile file;
    file.path_ = path;
    file.file_ = std::make_unique<MappedFile>(path);
    file.contents_ = parse_gguf(file.file_->bytes(), path.string());
    return file;
}

GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;
GgufFile::~GgufFile() = default;

uint64_t GgufFile::file_size() const { return file_->size(); }

std::span<const uint8_t> GgufFile::tensor_data(const GgufTensorInfo& info) const {
    return file_->bytes().subspan(contents_.data_offset + info.offset, info.n_bytes);
}

std::span<const uint8_t> GgufFile::tensor_data(std::string_view name) const {
    const GgufTensorInfo* info = contents_.find_tensor(name);
    if (!info) throw Error(ErrorKind::NotFound, fmt::format("tensor '{}' not found in '{}'", name, path_.string()));
    return tensor_data(*info);
}

}  // namespace llcuda
