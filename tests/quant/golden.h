// Reader for the golden-record files written by tests/oracles/quant_golden_io.py ("LQG1"):
// each record has a name, u64 metadata, raw bytes and float32 values.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace llcuda::test {

struct GoldenRecord {
    std::string name;
    std::vector<uint64_t> meta;
    std::vector<uint8_t> bytes;
    std::vector<float> floats;
};

inline std::vector<GoldenRecord> read_golden(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open golden file " + path.string());
    auto read = [&](void* p, size_t n) {
        if (!in.read(static_cast<char*>(p), std::streamsize(n)))
            throw std::runtime_error("truncated golden file " + path.string());
    };
    auto u32 = [&] { uint32_t v; read(&v, 4); return v; };
    auto u64 = [&] { uint64_t v; read(&v, 8); return v; };
    char magic[4];
    read(magic, 4);
    if (std::memcmp(magic, "LQG1", 4) != 0) throw std::runtime_error("bad magic in " + path.string());
    std::vector<GoldenRecord> records(u32());
    for (auto& r : records) {
        r.name.resize(u32());
        read(r.name.data(), r.name.size());
        r.meta.resize(u32());
        for (auto& m : r.meta) m = u64();
        r.bytes.resize(u64());
        read(r.bytes.data(), r.bytes.size());
        r.floats.resize(u64());
        read(r.floats.data(), r.floats.size() * 4);
    }
    return records;
}

// Same checksum as quant_golden_io.bit_checksum: sum(bits[i] * (2i+1)) mod 2^64.
inline uint64_t bit_checksum(const float* values, size_t n, uint64_t first_index = 0) {
    uint64_t sum = 0;
    for (size_t i = 0; i < n; ++i) {
        uint32_t bits;
        std::memcpy(&bits, &values[i], 4);
        sum += uint64_t(bits) * (2 * (first_index + i) + 1);
    }
    return sum;
}

inline uint32_t float_bits(float f) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
}

}  // namespace llcuda::test
