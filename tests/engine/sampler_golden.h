// The sampler golden files (tests/oracles/sampler_golden.py: llama.cpp's samplers on real SmolLM2
// logits): the cases document, each named row of logits and the token history its penalties see.
#pragma once

#include <bit>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "golden_json.h"
#include "llcuda/sampling.h"
#include "test_paths.h"

namespace llcuda::test {

static_assert(std::endian::native == std::endian::little, "rows.f32 is little-endian float32");

struct SamplerGolden {
    nlohmann::json doc;
    std::map<std::string, std::vector<float>> rows;        // name → logits [n_vocab]
    std::map<std::string, std::vector<int32_t>> histories;  // name → tokens seen, for the penalties
};

// Loaded once; throws naming the file when a golden file is missing or short.
inline const SamplerGolden& sampler_golden() {
    static const SamplerGolden g = [] {
        const auto dir = golden_dir() / "sampler";
        SamplerGolden g;
        g.doc = load_json(dir / "cases.json");
        const auto rows_path = dir / g.doc.at("rows_file").get<std::string>();
        std::ifstream in(rows_path, std::ios::binary);
        if (!in) throw std::runtime_error("cannot open " + rows_path.string());
        for (const auto& r : g.doc.at("rows")) {
            const auto name = r.at("name").get<std::string>();
            std::vector<float> row(r.at("n_vocab").get<size_t>());
            in.seekg(std::streamoff(r.at("offset").get<size_t>() * sizeof(float)));
            if (!in.read(reinterpret_cast<char*>(row.data()), std::streamsize(row.size() * sizeof(float))))
                throw std::runtime_error(rows_path.string() + " is shorter than cases.json says (row " + name + ")");
            g.rows[name] = std::move(row);
            g.histories[name] = r.at("history").get<std::vector<int32_t>>();
        }
        return g;
    }();
    return g;
}

// The sampling parameters of a golden case.
inline SamplingParams sampler_golden_params(const nlohmann::json& j) {
    SamplingParams p;
    p.temperature = j.at("temperature").get<float>();
    p.top_k = j.at("top_k").get<int32_t>();
    p.top_p = j.at("top_p").get<float>();
    p.min_p = j.at("min_p").get<float>();
    p.typical_p = j.at("typical_p").get<float>();
    p.repetition_penalty = j.at("repetition_penalty").get<float>();
    p.presence_penalty = j.at("presence_penalty").get<float>();
    p.frequency_penalty = j.at("frequency_penalty").get<float>();
    p.penalty_last_n = j.at("penalty_last_n").get<int32_t>();
    return p;
}

}  // namespace llcuda::test
