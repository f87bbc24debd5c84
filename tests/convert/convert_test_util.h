// Shared helpers for the converter tests: a scratch directory, the golden checkpoints made by
// tests/oracles/convert_golden.py, and scoring a GGUF with the CPU engine.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "golden_json.h"
#include "llcuda/engine.h"
#include "test_paths.h"

namespace llcuda::test {

inline std::filesystem::path convert_golden(const std::string& name) { return golden_dir() / "convert" / name; }

// A fresh directory per test, removed afterwards.
class ScratchDir {
public:
    ScratchDir() {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        std::string name = std::string(info->test_suite_name()) + "_" + info->name();
        std::replace(name.begin(), name.end(), '/', '_');
        static int counter = 0;  // several scratch dirs in one test must not share a path
        name += "_" + std::to_string(counter++);
        path_ = std::filesystem::temp_directory_path() / ("llcuda_convert_" + std::to_string(::getpid())) / name;
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
        std::filesystem::remove(path_.parent_path(), ec);  // only succeeds once it is empty
    }
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& s) const { return path_ / s; }
    // Number of entries in the directory (to check that failed writes leave nothing behind).
    size_t n_entries() const {
        return size_t(std::distance(std::filesystem::directory_iterator(path_), std::filesystem::directory_iterator()));
    }

private:
    std::filesystem::path path_;
};

// Log-softmax rows [tokens.size()][n_vocab] of a GGUF on the CPU engine.
inline std::vector<std::vector<float>> engine_log_softmax(const std::filesystem::path& gguf,
                                                          const std::vector<int32_t>& tokens) {
    InferenceEngine engine;
    LoadOptions o;
    o.backend = Backend::Cpu;
    o.context_length = 64;
    o.n_threads = 2;
    engine.load_model(gguf, o);
    const uint32_t n_vocab = engine.model_info().n_vocab;
    std::vector<std::vector<float>> rows(tokens.size());
    engine.score(tokens, [&](uint32_t i, const float* row) { rows[i].assign(row, row + n_vocab); });
    return rows;
}

// Largest |a - b| between engine rows and a golden file's "log_softmax"; fails on shape mismatch.
inline double max_abs_diff(const std::vector<std::vector<float>>& got, const nlohmann::json& golden) {
    const auto& want = golden["log_softmax"];
    EXPECT_EQ(got.size(), want.size());
    double worst = 0;
    for (size_t i = 0; i < got.size() && i < want.size(); ++i) {
        EXPECT_EQ(got[i].size(), want[i].size()) << "row " << i;
        for (size_t j = 0; j < got[i].size() && j < want[i].size(); ++j)
            worst = std::max(worst, std::fabs(double(got[i][j]) - want[i][j].get<double>()));
    }
    return worst;
}

inline std::vector<int32_t> golden_tokens(const nlohmann::json& golden) {
    return golden["tokens"].get<std::vector<int32_t>>();
}

}  // namespace llcuda::test
