// Memory bandwidth of common GPUs, the decode ceiling's denominator. Vendor peak figures, except the
// H100 SXM, where the figure is the device-to-device copy bandwidth we measured on an H100 SXM
// (3.0 TB/s, read + write).
#pragma once

#include <array>

namespace llcuda::planner {

struct GpuBandwidth {
    const char* name;
    double gb_per_s;
};

inline constexpr std::array<GpuBandwidth, 13> kGpuBandwidths{{
    {"Tesla T4", 320},      {"L4", 300},           {"A10", 600},         {"A100 80GB", 2039},
    {"H100 SXM", 3000},     {"H200", 4800},        {"RTX 3060", 360},    {"RTX 3090", 936},
    {"RTX 4060 Ti", 288},   {"RTX 4090", 1008},    {"RTX 5080", 960},    {"RTX 5090", 1792},
    {"A100 40GB", 1555},
}};

}  // namespace llcuda::planner
