// Loading the jinja2-generated golden files (tests/oracles/template_golden.py).
#pragma once

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "test_paths.h"

namespace llcuda::test {

inline nlohmann::ordered_json load_template_golden(const std::string& name) {
    std::ifstream f(golden_dir() / "template" / name, std::ios::binary);
    EXPECT_TRUE(f.good()) << "missing golden file " << name << " (run tests/oracles/template_golden.py)";
    std::stringstream ss;
    ss << f.rdbuf();
    return nlohmann::ordered_json::parse(ss.str());
}

// The oracle renders strftime_now at a fixed instant in UTC; match it.
inline std::chrono::system_clock::time_point golden_now(const nlohmann::ordered_json& doc) {
    setenv("TZ", "UTC", 1);
    tzset();
    return std::chrono::system_clock::from_time_t(static_cast<std::time_t>(doc.at("now_epoch").get<int64_t>()));
}

}  // namespace llcuda::test
