// Writes a file under a temporary name and renames it into place on commit(), so a crash, an error
// or a full disk never leaves a half-written model at the destination. Without commit() the
// temporary file is removed when the writer is destroyed.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>

namespace llcuda {

class AtomicFileWriter {
public:
    explicit AtomicFileWriter(std::filesystem::path destination);
    AtomicFileWriter(const AtomicFileWriter&) = delete;
    AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
    ~AtomicFileWriter();

    void write(const void* data, size_t n_bytes);
    void write_zeros(size_t n_bytes);
    uint64_t position() const { return position_; }
    // Flushes, fsyncs and renames the temporary file over the destination.
    void commit();

    const std::filesystem::path& temporary_path() const { return temporary_; }

private:
    std::filesystem::path destination_;
    std::filesystem::path temporary_;
    std::FILE* file_ = nullptr;
    uint64_t position_ = 0;
};

}  // namespace llcuda
