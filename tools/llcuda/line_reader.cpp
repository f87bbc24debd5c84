// LineReader (line_reader.h). libedit is used through its readline-compatible interface; its own
// signal handlers are turned off so that Ctrl-C reaches the chat's handler (interrupt.h), whose
// non-restarting SIGINT makes the blocked read return.
#include "line_reader.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#ifdef LLCUDA_HAVE_LIBEDIT
#include <editline/readline.h>
#endif

namespace llcuda::cli {

LineReader::LineReader() {
#ifdef LLCUDA_HAVE_LIBEDIT
    editing_ = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    if (editing_) {
        rl_catch_signals = 0;
        using_history();
    }
#endif
}

LineReader::~LineReader() {
#ifdef LLCUDA_HAVE_LIBEDIT
    if (editing_) clear_history();
#endif
}

std::optional<std::string> LineReader::read(const char* prompt) {
#ifdef LLCUDA_HAVE_LIBEDIT
    if (editing_) {
        char* raw = readline(prompt);
        if (raw == nullptr) return std::nullopt;
        std::string line(raw);
        std::free(raw);
        if (line.find_first_not_of(" \t") != std::string::npos) add_history(line.c_str());
        return line;
    }
#endif
    std::fputs(prompt, stdout);
    std::fflush(stdout);
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

}  // namespace llcuda::cli
