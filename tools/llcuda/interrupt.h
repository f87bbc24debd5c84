// Ctrl-C (SIGINT) for `run` and `chat`: while text is being generated it stops the reply (the
// stream callback sees stop_requested()); anywhere else it asks the program to quit, and a read
// from the terminal blocked at that moment returns (the handler is installed without SA_RESTART).
#pragma once

namespace llcuda::cli {

class InterruptScope {
public:
    InterruptScope();   // installs the handler
    ~InterruptScope();  // restores the previous one
    InterruptScope(const InterruptScope&) = delete;
    InterruptScope& operator=(const InterruptScope&) = delete;
};

void set_generating(bool generating);  // clears a pending stop when generation starts
bool stop_requested();                 // Ctrl-C during this generation
bool quit_requested();                 // Ctrl-C outside a generation

}  // namespace llcuda::cli
