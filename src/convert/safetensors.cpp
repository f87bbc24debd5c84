// safetensors header parsing and validation (docs/checkpoint-formats.md §safetensors).
#include "convert/safetensors.h"

#include <algorithm>
#include <cstring>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/fp16.h"
#include "core/mapped_file.h"
#include "llcuda/error.h"

namespace llcuda::convert {
namespace {

using json = nlohmann::json;

constexpr uint64_t kMaxHeader = 100'000'000;  // the reference reader's limit

struct DtypeEntry {
    const char* name;
    StDtype dtype;
    size_t size;
};
constexpr DtypeEntry kDtypes[] = {
    {"BOOL", StDtype::BOOL, 1}, {"U8", StDtype::U8, 1},   {"I8", StDtype::I8, 1},
    {"F8_E5M2", StDtype::F8_E5M2, 1}, {"F8_E4M3", StDtype::F8_E4M3, 1}, {"I16", StDtype::I16, 2},
    {"U16", StDtype::U16, 2},   {"F16", StDtype::F16, 2}, {"BF16", StDtype::BF16, 2},
    {"I32", StDtype::I32, 4},   {"U32", StDtype::U32, 4}, {"F32", StDtype::F32, 4},
    {"F64", StDtype::F64, 8},   {"I64", StDtype::I64, 8}, {"U64", StDtype::U64, 8},
};

[[noreturn]] void bad(const std::filesystem::path& path, const std::string& what) {
    throw Error(ErrorKind::FormatError, fmt::format("{}: corrupt safetensors file: {}", path.string(), what));
}

}  // namespace

size_t st_dtype_size(StDtype dtype) {
    for (const auto& e : kDtypes) if (e.dtype == dtype) return e.size;
    return 0;
}
const char* st_dtype_name(StDtype dtype) {
    for (const auto& e : kDtypes) if (e.dtype == dtype) return e.name;
    return "?";
}

uint64_t StTensor::n_elements() const {
    uint64_t n = 1;
    for (uint64_t d : shape) n *= d;
    return n;
}

SafetensorsFile::~SafetensorsFile() = default;
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path) : path_(path) {
    file_ = std::make_unique<MappedFile>(path);
    const auto bytes = file_->bytes();
    if (bytes.size() < 8) bad(path, fmt::format("{} bytes is too short for the header length", bytes.size()));
    uint64_t n_header = 0;
    std::memcpy(&n_header, bytes.data(), 8);  // little-endian hosts only (as the whole project)
    if (n_header > kMaxHeader || n_header > bytes.size() - 8) {
        bad(path, fmt::format("header length {} exceeds the file ({} bytes)", n_header, bytes.size()));
    }
    const auto* header_begin = reinterpret_cast<const char*>(bytes.data() + 8);
    json header;
    try {
        header = json::parse(header_begin, header_begin + n_header);
    } catch (const json::exception& e) {
        bad(path, fmt::format("header is not valid JSON ({})", e.what()));
    }
    if (!header.is_object()) bad(path, "header is not a JSON object");
    const auto data = bytes.subspan(8 + n_header);

    // (begin, end, name) for the tiling check.
    std::vector<std::tuple<uint64_t, uint64_t, std::string>> ranges;
    for (const auto& [name, info] : header.items()) {
        if (name == "__metadata__") continue;
        if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") || !info.contains("data_offsets"))
            bad(path, fmt::format("tensor '{}' lacks dtype/shape/data_offsets", name));
        StTensor t;
        t.name = name;
        const auto& dt = info["dtype"];
        const DtypeEntry* entry = nullptr;
        if (dt.is_string()) {
            for (const auto& e : kDtypes) if (dt.get<std::string>() == e.name) entry = &e;
        }
        if (!entry) bad(path, fmt::format("tensor '{}' has unsupported dtype {}", name, dt.dump()));
        t.dtype = entry->dtype;
        const auto& shape = info["shape"];
        const auto& offs = info["data_offsets"];
        if (!shape.is_array()) bad(path, fmt::format("tensor '{}': shape is not an array", name));
        for (const auto& d : shape) {
            if (!d.is_number_unsigned()) bad(path, fmt::format("tensor '{}': bad shape {}", name, shape.dump()));
            t.shape.push_back(d.get<uint64_t>());
        }
        if (!offs.is_array() || offs.size() != 2 || !offs[0].is_number_unsigned() || !offs[1].is_number_unsigned())
            bad(path, fmt::format("tensor '{}': bad data_offsets {}", name, offs.dump()));
        const uint64_t begin = offs[0].get<uint64_t>(), end = offs[1].get<uint64_t>();
        if (end < begin || end > data.size())
            bad(path, fmt::format("tensor '{}': data_offsets [{}, {}] outside the {}-byte data buffer", name, begin,
                                  end, data.size()));
        const long double expect = (long double)t.n_elements() * entry->size;
        if ((long double)(end - begin) != expect)
            bad(path, fmt::format("tensor '{}': {} bytes for shape {} of {}", name, end - begin, shape.dump(), entry->name));
        t.bytes = data.subspan(begin, end - begin);
        ranges.emplace_back(begin, end, name);
        tensors_.emplace(name, std::move(t));
    }
    std::sort(ranges.begin(), ranges.end());
    uint64_t cursor = 0;
    for (const auto& [begin, end, name] : ranges) {
        if (begin != cursor) bad(path, fmt::format("tensor '{}' starts at {} but the previous one ends at {}", name, begin, cursor));
        cursor = end;
    }
    if (cursor != data.size()) bad(path, fmt::format("{} trailing bytes after the last tensor", data.size() - cursor));
}

void SafetensorsSet::add(const std::filesystem::path& file) {
    files_.push_back(std::make_unique<SafetensorsFile>(file));
    for (const auto& [name, t] : files_.back()->tensors()) {
        if (!index_.emplace(name, &t).second)
            throw Error(ErrorKind::FormatError, fmt::format("tensor '{}' appears in more than one shard", name));
        names_.push_back(name);
    }
}

SafetensorsSet SafetensorsSet::open_file(const std::filesystem::path& file) {
    SafetensorsSet set;
    set.add(file);
    return set;
}

SafetensorsSet SafetensorsSet::open_dir(const std::filesystem::path& dir) {
    namespace fs = std::filesystem;
    std::vector<fs::path> shards;
    const fs::path index = dir / "model.safetensors.index.json";
    if (fs::exists(index)) {
        std::ifstream in(index);
        json j;
        try {
            j = json::parse(in);
        } catch (const json::exception& e) {
            throw Error(ErrorKind::FormatError, fmt::format("{}: not valid JSON ({})", index.string(), e.what()));
        }
        if (!j.contains("weight_map") || !j["weight_map"].is_object())
            throw Error(ErrorKind::FormatError, fmt::format("{}: no weight_map object", index.string()));
        std::vector<std::string> names;
        for (const auto& [tensor, file] : j["weight_map"].items()) {
            if (!file.is_string()) throw Error(ErrorKind::FormatError, index.string() + ": weight_map value is not a string");
            const std::string f = file.get<std::string>();
            if (f.find('/') != std::string::npos || f.find("..") != std::string::npos)
                throw Error(ErrorKind::FormatError, fmt::format("{}: suspicious shard name '{}'", index.string(), f));
            if (std::find(names.begin(), names.end(), f) == names.end()) names.push_back(f);
        }
        std::sort(names.begin(), names.end());
        for (const auto& n : names) shards.push_back(dir / n);
    } else if (fs::exists(dir / "model.safetensors")) {
        shards.push_back(dir / "model.safetensors");
    } else if (fs::is_directory(dir)) {
        for (const auto& e : fs::directory_iterator(dir)) {
            const std::string n = e.path().filename().string();
            if (n.starts_with("model") && n.ends_with(".safetensors")) shards.push_back(e.path());
        }
        std::sort(shards.begin(), shards.end());
    }
    if (shards.empty())
        throw Error(ErrorKind::NotFound, fmt::format("{}: no model.safetensors, model.safetensors.index.json or "
                                                     "model*.safetensors (only safetensors checkpoints are supported)",
                                                     dir.string()));
    SafetensorsSet set;
    for (const auto& s : shards) {
        if (!fs::exists(s)) throw Error(ErrorKind::NotFound, fmt::format("shard {} listed in the index is missing", s.string()));
        set.add(s);
    }
    return set;
}

const StTensor* SafetensorsSet::find(const std::string& name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : it->second;
}

const StTensor& SafetensorsSet::at(const std::string& name) const {
    const StTensor* t = find(name);
    if (!t) throw Error(ErrorKind::NotFound, fmt::format("checkpoint has no tensor '{}'", name));
    return *t;
}

std::vector<float> read_f32(const StTensor& t) {
    const uint64_t n = t.n_elements();
    std::vector<float> out(n);  // [n_elements], row-major like the source
    const uint8_t* p = t.bytes.data();
    auto load = [&]<typename T>(T) {
        for (uint64_t i = 0; i < n; ++i) {
            T v;
            std::memcpy(&v, p + i * sizeof(T), sizeof(T));
            out[i] = float(v);
        }
    };
    switch (t.dtype) {
    case StDtype::F32: std::memcpy(out.data(), p, n * 4); break;
    case StDtype::F16:
        for (uint64_t i = 0; i < n; ++i) { uint16_t h; std::memcpy(&h, p + 2 * i, 2); out[i] = fp16_to_fp32(h); }
        break;
    case StDtype::BF16:
        for (uint64_t i = 0; i < n; ++i) { uint16_t h; std::memcpy(&h, p + 2 * i, 2); out[i] = bf16_to_fp32(h); }
        break;
    case StDtype::F64: load(double{}); break;
    case StDtype::U8: case StDtype::BOOL: load(uint8_t{}); break;
    case StDtype::I8: load(int8_t{}); break;
    case StDtype::I16: load(int16_t{}); break;
    case StDtype::U16: load(uint16_t{}); break;
    case StDtype::I32: load(int32_t{}); break;
    case StDtype::U32: load(uint32_t{}); break;
    case StDtype::I64: load(int64_t{}); break;
    case StDtype::U64: load(uint64_t{}); break;
    default:
        throw Error(ErrorKind::Unsupported, fmt::format("tensor '{}': dtype {} cannot be converted", t.name,
                                                        st_dtype_name(t.dtype)));
    }
    return out;
}

}  // namespace llcuda::convert
