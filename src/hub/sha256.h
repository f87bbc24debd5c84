// SHA-256 (FIPS 180-4), to check a download against the hash the hub announces for LFS files.
// Written here rather than taken from OpenSSL so that the check exists in every build.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace llcuda::hub {

class Sha256 {
public:
    Sha256();
    void update(const void* data, size_t n_bytes);
    std::string hex_digest();  // 64 lowercase hex digits; ends the computation

private:
    void block(const uint8_t* p);  // one 64-byte block

    std::array<uint32_t, 8> h_;
    std::array<uint8_t, 64> buffer_{};
    size_t buffered_ = 0;
    uint64_t length_ = 0;  // bytes
};

// The hex digest of a whole file (Io error when it cannot be read).
std::string sha256_file(const std::filesystem::path& path);

}  // namespace llcuda::hub
