#include "hub/partial_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "llcuda/error.h"

namespace llcuda::hub {

namespace {
[[noreturn]] void fail(const char* what, const std::filesystem::path& p) {
    throw Error(ErrorKind::Io, fmt::format("cannot {} '{}': {}", what, p.string(), std::strerror(errno)));
}
}  // namespace

PartialFile::PartialFile(std::filesystem::path destination) : destination_(std::move(destination)) {
    path_ = destination_;
    path_ += ".incomplete";
    std::error_code ec;
    std::filesystem::create_directories(destination_.parent_path(), ec);
    if (ec) {
        throw Error(ErrorKind::Io, fmt::format("cannot create the model cache folder '{}': {}",
                                               destination_.parent_path().string(), ec.message()));
    }
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("create", path_);
    while (::flock(fd_, LOCK_EX) != 0) {
        if (errno != EINTR) {
            ::close(fd_);
            fail("lock", path_);
        }
    }
    struct stat st{};
    if (::fstat(fd_, &st) != 0) fail("stat", path_);
    size_ = uint64_t(st.st_size);
    if (::lseek(fd_, 0, SEEK_END) < 0) fail("seek in", path_);
}

PartialFile::~PartialFile() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

void PartialFile::append(const void* data, size_t n_bytes) {
    const auto* p = static_cast<const char*>(data);
    while (n_bytes) {
        const ssize_t n = ::write(fd_, p, n_bytes);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("write", path_);
        }
        p += n, n_bytes -= size_t(n), size_ += uint64_t(n);
    }
}

void PartialFile::truncate() {
    if (::ftruncate(fd_, 0) != 0 || ::lseek(fd_, 0, SEEK_SET) < 0) fail("truncate", path_);
    size_ = 0;
}

void PartialFile::commit() {
    if (::fsync(fd_) != 0) fail("flush", path_);
    // Renamed while still locked: a waiting process then sees the finished file, never a gap.
    if (::rename(path_.c_str(), destination_.c_str()) != 0) fail("rename into place", path_);
}

void PartialFile::discard() { ::unlink(path_.c_str()); }

}  // namespace llcuda::hub
