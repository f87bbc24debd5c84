// llama.cpp's multi-letter single-dash flags (-ngl, -cnv, -sys, ...). CLI11 reads "-cnv" as "-c nv"
// (a short option followed by its value), so these are rewritten to their long names before
// parsing. Only whole arguments equal to an alias are rewritten.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llcuda::cli {

// Alias -> the long name CLI11 knows (docs/cli.md has the whole table).
inline const std::vector<std::pair<std::string_view, std::string_view>>& llama_dash_aliases() {
    static const std::vector<std::pair<std::string_view, std::string_view>> aliases = {
        {"-ngl", "--n-gpu-layers"}, {"-cnv", "--conversation"}, {"-no-cnv", "--no-conversation"},
        {"-sys", "--system-prompt"}, {"-fa", "--flash-attn"},     {"-ub", "--ubatch-size"},
        {"-jf", "--json-schema-file"}, {"-np", "--parallel"},  // -np: `bench --parallel` (llama-batched-bench)
    };
    return aliases;
}

inline std::vector<std::string> rewrite_llama_aliases(int argc, char** argv) {
    std::vector<std::string> args(argv, argv + argc);
    for (size_t i = 1; i < args.size(); ++i) {
        if (args[i] == "--") break;  // everything after "--" is positional text
        for (const auto& [alias, name] : llama_dash_aliases()) {
            if (args[i] == alias) args[i] = name;
        }
    }
    return args;
}

}  // namespace llcuda::cli
