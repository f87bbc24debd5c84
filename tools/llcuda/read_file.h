// Reading a whole input file (prompts, texts, templates, JSON) for the subcommands.
#pragma once

#include <fstream>
#include <iterator>
#include <string>

#include "llcuda/error.h"

namespace llcuda::cli {

inline std::string read_stream(std::istream& in) {
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Throws NotFound naming the path when it cannot be opened.
inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::NotFound, "cannot read " + path);
    return read_stream(in);
}

}  // namespace llcuda::cli
