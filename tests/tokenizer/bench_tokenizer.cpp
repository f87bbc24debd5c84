// Encode throughput on one core: `bench_tokenizer <tokenizer.json|model.gguf> <corpus.txt>` prints
// "lines <MB/s> <n_tokens>" and "blocks <MB/s> <n_tokens>" (each line; 64-line blocks), the best
// of 3 runs. Time is process CPU time, not wall time: the machines this runs on are shared, and
// CPU time is what stays comparable. tests/oracles/tokenizer_bench.py runs it beside HF
// `tokenizers` (also in CPU time) and prints a table.
#include <algorithm>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "llcuda/error.h"
#include "llcuda/tokenizer.h"

namespace {

double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

std::vector<std::string> split_lines(const std::string& all) {
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t nl; (nl = all.find('\n', start)) != std::string::npos; start = nl + 1) out.push_back(all.substr(start, nl - start));
    out.push_back(all.substr(start));
    return out;
}

void run(const llcuda::Tokenizer& tok, const char* label, const std::vector<std::string>& texts) {
    size_t bytes = 0;
    for (const auto& t : texts) bytes += t.size();
    llcuda::EncodeOptions opt;
    opt.add_special = false;
    double best = 1e30;
    size_t n_tokens = 0;
    for (int rep = 0; rep < 3; ++rep) {
        const double t0 = cpu_seconds();
        n_tokens = 0;
        for (const auto& t : texts) n_tokens += tok.encode(t, opt).size();
        best = std::min(best, cpu_seconds() - t0);
    }
    std::printf("%s %.3f %zu\n", label, bytes / best / 1e6, n_tokens);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s <tokenizer.json|model.gguf> <corpus.txt>\n", argv[0]);
        return 2;
    }
    try {
        const std::string path = argv[1];
        const bool gguf = path.size() > 5 && path.compare(path.size() - 5, 5, ".gguf") == 0;
        const auto tok = gguf ? llcuda::Tokenizer::from_gguf_file(path) : llcuda::Tokenizer::from_hf_json_file(path);
        std::ifstream in(argv[2], std::ios::binary);
        const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const auto lines = split_lines(all);
        std::vector<std::string> blocks;
        for (size_t i = 0; i < lines.size(); i += 64) {
            std::string b;
            for (size_t k = i; k < std::min(lines.size(), i + 64); ++k) b += (k > i ? "\n" : "") + lines[k];
            blocks.push_back(std::move(b));
        }
        run(tok, "lines", lines);
        run(tok, "blocks", blocks);
    } catch (const llcuda::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
