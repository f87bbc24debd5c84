// Reads the chat's input lines. On a terminal, with line editing and a history of this session's
// lines (libedit, BSD-licensed, when the build found it: up/down recall earlier lines, the usual
// Emacs keys edit); from a pipe or file, or in a build without libedit, plain lines from stdin.
#pragma once

#include <optional>
#include <string>

namespace llcuda::cli {

class LineReader {
public:
    LineReader();
    ~LineReader();
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    // The next line without its end-of-line, after showing `prompt`; nullopt at the end of input
    // or when a read was interrupted (Ctrl-C at the prompt).
    std::optional<std::string> read(const char* prompt);

    bool editing() const { return editing_; }  // line editing is active (a terminal and libedit)

private:
    bool editing_ = false;
};

}  // namespace llcuda::cli
