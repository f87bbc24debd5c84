// SIGINT handling (interrupt.h). The handler only touches lock-free atomics.
#include "interrupt.h"

#include <atomic>
#include <csignal>

namespace llcuda::cli {

namespace {
std::atomic<bool> g_generating{false};
std::atomic<bool> g_stop{false};
std::atomic<bool> g_quit{false};
struct sigaction g_previous {};

extern "C" void on_sigint(int) {
    if (g_generating.load()) g_stop.store(true);
    else g_quit.store(true);
}
}  // namespace

InterruptScope::InterruptScope() {
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a blocked read of the next line returns EINTR
    sigaction(SIGINT, &sa, &g_previous);
}

InterruptScope::~InterruptScope() { sigaction(SIGINT, &g_previous, nullptr); }

void set_generating(bool generating) {
    if (generating) g_stop.store(false);
    g_generating.store(generating);
}

bool stop_requested() { return g_stop.load(); }
bool quit_requested() { return g_quit.load(); }

}  // namespace llcuda::cli
