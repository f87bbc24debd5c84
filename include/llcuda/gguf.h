// GGUF v3 container: a bounds-checked reader over a memory-mapped file and an atomic writer.
//
// Layout and the rules llama.cpp enforces: docs/gguf.md. The reader validates every size, count,
// offset and string length against the bytes that are really there before using it, so a
// malformed file raises llcuda::Error (kind FormatError) naming what is wrong and at which offset.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "llcuda/ggml_type.h"

namespace llcuda {

// On-disk ids of the metadata value types (`enum gguf_type`).
enum class GgufType : uint32_t {
    UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7,
    String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12,
};

const char* gguf_type_name(GgufType type);  // "u32", "string", "array", ...
// Bytes of one scalar of this type; 0 for String and Array (variable size).
size_t gguf_scalar_size(GgufType type);

// A homogeneous array. Numeric and bool elements are kept as their little-endian bytes as found
// in the file (`raw`, count * element size bytes); string elements are in `strings`.
struct GgufArray {
    GgufType elem_type = GgufType::UInt8;
    uint64_t count = 0;
    std::vector<uint8_t> raw;
    std::vector<std::string> strings;

    // Element i converted to the requested type; throws when the element type does not match.
    template <typename T> T at(uint64_t i) const;
    // All elements as T (int32/uint32/float/... must match elem_type exactly).
    template <typename T> std::vector<T> as() const;
};

// One metadata value. The variant alternative is fixed by `type`.
class GgufValue {
public:
    using Storage = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool,
                                 std::string, GgufArray, uint64_t, int64_t, double>;

    GgufValue() = default;
    explicit GgufValue(Storage v);
    // Convenience constructors pick the GGUF type from the C++ type.
    static GgufValue u8(uint8_t v) { return GgufValue(Storage(v)); }
    static GgufValue i8(int8_t v) { return GgufValue(Storage(v)); }
    static GgufValue u16(uint16_t v) { return GgufValue(Storage(v)); }
    static GgufValue i16(int16_t v) { return GgufValue(Storage(v)); }
    static GgufValue u32(uint32_t v) { return GgufValue(Storage(v)); }
    static GgufValue i32(int32_t v) { return GgufValue(Storage(v)); }
    static GgufValue f32(float v) { return GgufValue(Storage(v)); }
    static GgufValue boolean(bool v) { return GgufValue(Storage(v)); }
    static GgufValue string(std::string v) { return GgufValue(Storage(std::move(v))); }
    static GgufValue u64(uint64_t v) { return GgufValue(Storage(v)); }
    static GgufValue i64(int64_t v) { return GgufValue(Storage(v)); }
    static GgufValue f64(double v) { return GgufValue(Storage(v)); }
    static GgufValue array(GgufArray v) { return GgufValue(Storage(std::move(v))); }
    static GgufValue string_array(std::vector<std::string> v);
    template <typename T> static GgufValue numeric_array(GgufType elem_type, std::span<const T> v);

    GgufType type() const { return GgufType(storage_.index()); }
    const Storage& storage() const { return storage_; }

private:
    Storage storage_;
};

struct GgufKv {
    std::string key;
    GgufValue value;
};

struct GgufTensorInfo {
    std::string name;
    uint32_t n_dims = 0;               // as stored (1..4); dims past n_dims are 1
    std::array<uint64_t, 4> ne{1, 1, 1, 1};  // ne[0] is the innermost (contiguous) dimension
    GgmlType type = GgmlType::F32;
    uint64_t offset = 0;               // relative to the start of the data section
    uint64_t n_bytes = 0;              // derived from type and ne

    uint64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

// Parsed metadata plus tensor infos; shared by the file-backed reader and the fuzz target.
class GgufContents {
public:
    uint32_t version = 3;
    uint32_t alignment = 32;           // general.alignment, or 32
    uint64_t data_offset = 0;          // absolute file offset of the tensor data section
    std::vector<GgufKv> kvs;           // in file order
    std::vector<GgufTensorInfo> tensors;  // in file order

    const GgufValue* find(std::string_view key) const;        // nullptr when absent
    bool has(std::string_view key) const { return find(key) != nullptr; }
    const GgufTensorInfo* find_tensor(std::string_view name) const;

    // Typed accessors: throw NotFound when the key is absent and InvalidArgument naming the stored
    // and the expected type when it differs. The *_or forms return `fallback` when absent.
    uint32_t get_u32(std::string_view key) const;
    int32_t get_i32(std::string_view key) const;
    uint64_t get_u64(std::string_view key) const;
    float get_f32(std::string_view key) const;
    bool get_bool(std::string_view key) const;
    const std::string& get_string(std::string_view key) const;
    const GgufArray& get_array(std::string_view key) const;
    uint32_t get_u32_or(std::string_view key, uint32_t fallback) const;
    float get_f32_or(std::string_view key, float fallback) const;
    bool get_bool_or(std::string_view key, bool fallback) const;
    std::string get_string_or(std::string_view key, std::string fallback) const;
    // Any unsigned/signed integer type widened to int64 (counts written by different converters).
    int64_t get_integer(std::string_view key) const;

    void rebuild_index();              // after editing kvs/tensors by hand

private:
    std::unordered_map<std::string, size_t> kv_index_;
    std::unordered_map<std::string, size_t> tensor_index_;
};

// Parse a GGUF image held in memory. `source_name` only labels error messages.
// The tensor data itself is not copied; infos are validated against bytes.size().
GgufContents parse_gguf(std::span<const uint8_t> bytes, std::string_view source_name = "<memory>");

class MappedFile;

// A GGUF file opened read-only through mmap. Tensor data views stay valid while the object lives.
class GgufFile {
public:
    static GgufFile open(const std::filesystem::path& path);
    GgufFile(GgufFile&&) noexcept;
    GgufFile& operator=(GgufFile&&) noexcept;
    ~GgufFile();

    const GgufContents& contents() const { return contents_; }
    const std::filesystem::path& path() const { return path_; }
    uint64_t file_size() const;
    std::span<const uint8_t> tensor_data(const GgufTensorInfo& info) const;
    std::span<const uint8_t> tensor_data(std::string_view name) const;  // NotFound if absent

private:
    GgufFile() = default;
    std::filesystem::path path_;
    std::unique_ptr<MappedFile> file_;
    GgufContents contents_;
};

// Builds a GGUF v3 file. Metadata keys keep insertion order (setting an existing key replaces its
// value in place); tensors are written in the order added, each padded to the alignment, with
// strictly sequential offsets. write() goes to "<path>.tmp-<pid>" and renames it over `path` only
// after everything was written and flushed.
class GgufWriter {
public:
    // Writes exactly n_bytes of one tensor's data to `out`.
    using DataSource = std::function<void(std::function<void(const void*, size_t)> out)>;

    GgufWriter();
    void set(std::string_view key, GgufValue value);
    void remove(std::string_view key);
    void set_alignment(uint32_t alignment);  // also sets general.alignment
    // `data` must stay alive until write() returns. `n_dims` 0 means "as many as needed (>= 1)".
    void add_tensor(std::string name, GgmlType type, std::span<const uint64_t> ne,
                    std::span<const uint8_t> data, uint32_t n_dims = 0);
    void add_tensor(std::string name, GgmlType type, std::span<const uint64_t> ne, DataSource source,
                    uint32_t n_dims = 0);
    void write(const std::filesystem::path& path) const;

    // A writer that reproduces `file` (metadata, tensor infos and data) byte for byte.
    static GgufWriter copy_of(const GgufFile& file);

private:
    struct PendingTensor {
        GgufTensorInfo info;
        DataSource source;
    };
    std::vector<GgufKv> kvs_;
    std::vector<PendingTensor> tensors_;
    uint32_t alignment_ = 32;
};

}  // namespace llcuda
