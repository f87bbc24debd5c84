// The file a download is written to: "<destination>.incomplete", kept between attempts so that the
// next one resumes it (HTTP Range), renamed over the destination only once checked. An exclusive
// lock (flock) keeps two processes that download the same model from writing it at once: the
// second waits, then finds the finished file.
#pragma once

#include <cstdint>
#include <filesystem>

namespace llcuda::hub {

class PartialFile {
public:
    explicit PartialFile(std::filesystem::path destination);  // creates the folder; waits for the lock
    PartialFile(const PartialFile&) = delete;
    PartialFile& operator=(const PartialFile&) = delete;
    ~PartialFile();  // releases the lock; the partial file stays for a later resume

    uint64_t size() const { return size_; }
    void append(const void* data, size_t n_bytes);
    void truncate();  // start over from byte 0
    // fsync, then rename over the destination.
    void commit();
    // Deletes the partial file (after a failed check: resuming it could never succeed).
    void discard();
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path destination_;
    std::filesystem::path path_;
    int fd_ = -1;
    uint64_t size_ = 0;
};

}  // namespace llcuda::hub
