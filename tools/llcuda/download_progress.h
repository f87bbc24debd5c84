// The llcuda program's progress report while a model downloads (llcuda/hub.h): one line rewritten in
// place on a terminal, else a line every 10 seconds, so that logs stay short.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "llcuda/hub.h"

namespace llcuda::cli {

inline hub::ProgressCallback stderr_download_progress(const std::string& name) {
    const bool terminal = isatty(STDERR_FILENO);
    const auto start = std::chrono::steady_clock::now();
    auto last = start;
    return [=](uint64_t done, uint64_t total) mutable {
        const auto now = std::chrono::steady_clock::now();
        const bool finished = total && done >= total;
        if (!terminal && !finished && now - last < std::chrono::seconds(10)) return true;
        last = now;
        const double seconds = std::chrono::duration<double>(now - start).count();
        const double mib = double(done) / (1 << 20);
        const std::string of = total ? fmt::format(" of {:.1f} MiB ({:.0f}%)", double(total) / (1 << 20),
                                                   100.0 * double(done) / double(total))
                                     : " MiB";
        fmt::print(stderr, "{}llcuda: downloading {}: {:.1f}{}{}, {:.1f} MiB/s{}", terminal ? "\r" : "", name, mib,
                   total ? " MiB" : "", of, seconds > 0 ? mib / seconds : 0.0,
                   terminal && !finished ? "\x1b[K" : "\n");
        std::fflush(stderr);
        return true;
    };
}

}  // namespace llcuda::cli
