#include "core/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "llcuda/error.h"

namespace llcuda {

namespace {
constexpr size_t kBufferBytes = 4u << 20;  // large stdio buffer: tensor data arrives in big pieces
}

AtomicFileWriter::AtomicFileWriter(std::filesystem::path destination) : destination_(std::move(destination)) {
    temporary_ = destination_;
    temporary_ += fmt::format(".tmp-{}", ::getpid());
    file_ = std::fopen(temporary_.c_str(), "wb");
    if (!file_) {
        throw Error(ErrorKind::Io, fmt::format("cannot create '{}': {}", temporary_.string(), std::strerror(errno)));
    }
    std::setvbuf(file_, nullptr, _IOFBF, kBufferBytes);
}

AtomicFileWriter::~AtomicFileWriter() {
    if (file_) {
        std::fclose(file_);
        std::error_code ignored;
        std::filesystem::remove(temporary_, ignored);
    }
}

void AtomicFileWriter::write(const void* data, size_t n_bytes) {
    if (!file_) throw Error(ErrorKind::Internal, "write after commit");
    if (n_bytes && std::fwrite(data, 1, n_bytes, file_) != n_bytes) {
        throw Error(ErrorKind::Io, fmt::format("cannot write '{}': {}", temporary_.string(), std::strerror(errno)));
    }
    position_ += n_bytes;
}

void AtomicFileWriter::write_zeros(size_t n_bytes) {
    static const uint8_t zeros[256] = {};
    while (n_bytes) {
        const size_t n = n_bytes < sizeof zeros ? n_bytes : sizeof zeros;
        write(zeros, n);
        n_bytes -= n;
    }
}

void AtomicFileWriter::commit() {
    if (!file_) throw Error(ErrorKind::Internal, "commit called twice");
    const bool flushed = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
    const int err = errno;
    const bool closed = std::fclose(file_) == 0;
    file_ = nullptr;
    std::error_code ec;
    if (!flushed || !closed) {
        std::filesystem::remove(temporary_, ec);
        throw Error(ErrorKind::Io, fmt::format("cannot flush '{}': {}", temporary_.string(), std::strerror(err)));
    }
    std::filesystem::rename(temporary_, destination_, ec);
    if (ec) {
        std::error_code ignored;
        std::filesystem::remove(temporary_, ignored);
        throw Error(ErrorKind::Io, fmt::format("cannot rename '{}' to '{}': {}", temporary_.string(),
                                               destination_.string(), ec.message()));
    }
}

}  // namespace llcuda
