// Reading the JSON golden files made by tests/oracles/*.py.
#pragma once

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace llcuda::test {

inline nlohmann::json load_json(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open golden file " + path.string());
    return nlohmann::json::parse(in);
}

}  // namespace llcuda::test
