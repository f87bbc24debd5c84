// Builds GGUF images byte by byte, so tests can produce exactly the malformed files they need.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace llcuda::test {

class ByteBuilder {
public:
    template <typename T>
    ByteBuilder& put(T v) {
        const auto* p = reinterpret_cast<const uint8_t*>(&v);
        bytes.insert(bytes.end(), p, p + sizeof v);
        return *this;
    }
    ByteBuilder& str(const std::string& s) {
        put<uint64_t>(s.size());
        bytes.insert(bytes.end(), s.begin(), s.end());
        return *this;
    }
    ByteBuilder& header(uint32_t version, int64_t n_tensors, int64_t n_kv) {
        bytes.insert(bytes.end(), {'G', 'G', 'U', 'F'});
        return put<uint32_t>(version).put<int64_t>(n_tensors).put<int64_t>(n_kv);
    }
    ByteBuilder& kv_u32(const std::string& key, uint32_t v) { return str(key).put<uint32_t>(4).put<uint32_t>(v); }
    // A tensor info record; dims are given in ggml order.
    ByteBuilder& tensor(const std::string& name, std::vector<int64_t> ne, uint32_t type, uint64_t offset) {
        str(name).put<uint32_t>(uint32_t(ne.size()));
        for (int64_t d : ne) put<int64_t>(d);
        return put<uint32_t>(type).put<uint64_t>(offset);
    }
    ByteBuilder& pad_to(size_t alignment) {
        while (bytes.size() % alignment) bytes.push_back(0);
        return *this;
    }
    ByteBuilder& zeros(size_t n) {
        bytes.insert(bytes.end(), n, 0);
        return *this;
    }

    std::vector<uint8_t> bytes;
};

}  // namespace llcuda::test
