// Reading safetensors checkpoints (docs/checkpoint-formats.md §safetensors): one file or a set of shards listed in
// model.safetensors.index.json. Files are memory-mapped; a tensor is read (and widened to float32)
// only when asked for, so holding a SafetensorsSet costs no memory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace llcuda {
class MappedFile;
}

namespace llcuda::convert {

enum class StDtype { BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64 };
size_t st_dtype_size(StDtype dtype);
const char* st_dtype_name(StDtype dtype);

struct StTensor {
    std::string name;
    StDtype dtype = StDtype::F32;
    std::vector<uint64_t> shape;        // row-major, outermost first (PyTorch order)
    std::span<const uint8_t> bytes;     // view into the mapped file
    uint64_t n_elements() const;
};

// One .safetensors file. The header is validated like the reference reader does: JSON object,
// known dtypes, sizes matching shapes, ranges tiling the data buffer with no holes or overlap.
class SafetensorsFile {
public:
    explicit SafetensorsFile(const std::filesystem::path& path);
    ~SafetensorsFile();
    SafetensorsFile(SafetensorsFile&&) noexcept;
    const std::map<std::string, StTensor>& tensors() const { return tensors_; }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
    std::unique_ptr<MappedFile> file_;
    std::map<std::string, StTensor> tensors_;  // sorted by name (byte-wise), the converter's order
};

// All tensors of a checkpoint directory: model.safetensors, the shards of
// model.safetensors.index.json, or (fallback) every model*.safetensors, in sorted file order.
class SafetensorsSet {
public:
    static SafetensorsSet open_dir(const std::filesystem::path& dir);
    static SafetensorsSet open_file(const std::filesystem::path& file);

    const StTensor* find(const std::string& name) const;  // nullptr when absent
    const StTensor& at(const std::string& name) const;    // NotFound when absent
    // Tensor names in the converter's order: shards in sorted file-name order, names sorted inside.
    const std::vector<std::string>& names() const { return names_; }

private:
    void add(const std::filesystem::path& file);
    std::vector<std::unique_ptr<SafetensorsFile>> files_;  // stable addresses for index_
    std::map<std::string, const StTensor*> index_;
    std::vector<std::string> names_;
};

// The tensor's elements widened to float32 (F32/F16/BF16/F64 and integer types).
std::vector<float> read_f32(const StTensor& tensor);

}  // namespace llcuda::convert
