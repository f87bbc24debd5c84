// llama.cpp's hub flags, taken out of the arguments before CLI11 parses them so that every command
// that accepts -m accepts them too, through the same model resolution (default_model.h):
//   -hf, -hfr, --hf-repo NAME   "owner/repo:file.gguf" (or "owner/repo" with --hf-file), or a
//                               well-known name: becomes -m NAME
//   -hff, --hf-file FILE        the file within --hf-repo
//   --offline                   use the model cache only (as HF_HUB_OFFLINE=1 does)
// llama.cpp reads "-hf owner/repo:Q4_K_M" as a quantization tag; here the part after ':' is a file.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace llcuda::cli {

// Set by --offline; read by resolve_model.
inline bool& offline_flag() {
    static bool offline = false;
    return offline;
}

// Rewrites `args` (program name first) in place; throws std::invalid_argument for a flag without
// its value or contradicting -m.
inline void rewrite_hub_flags(std::vector<std::string>& args) {
    std::string repo, file;
    bool has_model = false;
    std::vector<std::string> out;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--") {  // everything after "--" is positional text
            out.insert(out.end(), args.begin() + long(i), args.end());
            break;
        }
        const bool is_repo = a == "-hf" || a == "-hfr" || a == "--hf-repo";
        const bool is_file = a == "-hff" || a == "--hf-file";
        if (is_repo || is_file) {
            if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
            (is_repo ? repo : file) = args[++i];
            continue;
        }
        if (a == "--offline") {
            offline_flag() = true;
            continue;
        }
        if (a == "-m" || a == "--model" || a.rfind("--model=", 0) == 0) has_model = true;
        out.push_back(a);
    }
    if (repo.empty() && file.empty()) {
        args = std::move(out);
        return;
    }
    if (has_model) throw std::invalid_argument("-hf/--hf-repo and -m/--model both name a model: give one");
    if (repo.empty()) throw std::invalid_argument("--hf-file needs --hf-repo (or -hf owner/repo:file)");
    if (!file.empty()) {
        if (repo.find(':') != std::string::npos) throw std::invalid_argument("--hf-repo already names a file");
        repo += ":" + file;
    }
    // The model option goes after the subcommand's name: the first argument not starting with '-'.
    size_t at = 1;
    while (at < out.size() && !out[at].empty() && out[at][0] == '-') ++at;
    if (at < out.size()) ++at;
    out.insert(out.begin() + long(at), {"-m", repo});
    args = std::move(out);
}

}  // namespace llcuda::cli
