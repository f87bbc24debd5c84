// A read-only memory map of a whole file. Models are mapped, never read into memory, so opening a
// multi-gigabyte GGUF costs nothing until its tensors are touched.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>

namespace llcuda {

class MappedFile {
public:
    // Throws Error(NotFound) for a missing file and Error(Io) when it cannot be opened or mapped.
    explicit MappedFile(const std::filesystem::path& path);
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    std::span<const uint8_t> bytes() const { return {data_, size_}; }
    uint64_t size() const { return size_; }

private:
    const uint8_t* data_ = nullptr;  // nullptr for an empty file
    uint64_t size_ = 0;
};

}  // namespace llcuda
