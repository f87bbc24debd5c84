// The C++ side of the binding-overhead measurement (package_test.py): median wall time of
// InferenceEngine::infer generating one greedy token, through the public API only. One CPU thread,
// so that thread-pool wake-ups do not drown the microseconds being measured.
//   infer_timing MODEL PROMPT REPEATS   prints {"median_ms": ...}
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "llcuda/engine.h"
#include "llcuda/error.h"

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: infer_timing MODEL PROMPT REPEATS\n");
        return 2;
    }
    try {
        llcuda::InferenceEngine engine;
        llcuda::LoadOptions options;
        options.backend = llcuda::Backend::Cpu;
        options.n_threads = 1;
        engine.load_model(argv[1], options);
        llcuda::SamplingParams params;
        params.temperature = 0;
        params.max_tokens = 1;
        const int repeats = std::stoi(argv[3]);
        std::vector<double> ms;
        engine.infer(argv[2], params);  // warm-up, as the Python side does
        for (int i = 0; i < repeats; ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            engine.infer(argv[2], params);
            ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
        std::sort(ms.begin(), ms.end());
        std::printf("{\"median_ms\": %.6f}\n", ms[ms.size() / 2]);
    } catch (const llcuda::Error& e) {
        std::fprintf(stderr, "infer_timing: %s\n", e.what());
        return 1;
    }
    return 0;
}
